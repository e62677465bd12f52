import ArgumentParser
import Foundation
import NeuralNet
import SentenceModels
import TensorCore

/// `sentencevae bench opt`: token-level OPT inference speed at the real model shapes.
struct BenchOPTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "opt",
        abstract: "Measure OPT prefill and decode speed (batch 1, fp32, KV cache) at a real model shape.",
        discussion: """
            The weights are zeros of the right shapes (speed does not depend on their values), so no \
            download is needed. Decoding streams every weight once per token, so it is bound by memory \
            bandwidth: compare with `bench kernels`' read bandwidth.
            """
    )

    enum Size: String, ExpressibleByArgument, CaseIterable {
        case opt125m = "125m", opt350m = "350m", opt1_3b = "1.3b"

        var configuration: OPTConfiguration {
            switch self {
            case .opt125m: OPTConfiguration(hiddenSize: 768, ffnDim: 3072, attentionHeads: 12, layers: 12)
            case .opt350m: OPTConfiguration(hiddenSize: 1024, ffnDim: 4096, attentionHeads: 16, layers: 24,
                                            wordEmbedProjectionDim: 512, layerNormBefore: false)
            case .opt1_3b: OPTConfiguration(hiddenSize: 2048, ffnDim: 8192, attentionHeads: 32, layers: 24)
            }
        }
    }

    @Option(help: "Model shape: \(Size.allCases.map(\.rawValue).joined(separator: ", ")).")
    var size: Size = .opt125m

    @Option(help: "Prompt tokens (prefill).")
    var prompt: Int = 64

    @Option(help: "Tokens to decode after the prompt.")
    var tokens: Int = 32

    @Option(help: "Kernel threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        guard prompt >= 1, tokens >= 1, prompt + tokens <= 2048 else {
            throw ValidationError("--prompt and --tokens must be ≥ 1 with prompt + tokens ≤ 2048")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        if let threads { Threads.count = threads }
        let config = size.configuration
        let model = try withoutRandomInitialization { try OPTModel(config: config) }
        let generator = OPTGenerator(model: model, capacity: prompt + tokens)
        let ids = (0..<prompt).map { 4 + $0 % 1000 }
        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        try generator(ids)  // warm-up: sizes the buffers, faults the pages in
        generator.reset()
        var logits = generator.logits
        let prefill = try seconds { logits = try generator(ids) }
        var next = Sampler.argmax(logits, count: config.vocabularySize)
        let decode = try seconds {
            for _ in 0..<tokens {
                logits = try generator(token: next)
                next = Sampler.argmax(logits, count: config.vocabularySize)
            }
        }
        let parameters = model.parameterCount
        print("OPT-\(size.rawValue) shape, \(parameters / 1_000_000) M parameters, fp32, batch 1, \(Threads.count) thread(s)")
        print(String(format: "prefill %d tokens: %.1f tokens/s (%.1f ms)", prompt, Double(prompt) / prefill, prefill * 1000))
        print(String(format: "decode %d tokens: %.1f tokens/s (%.1f ms/token, %.1f GB/s of weights)", tokens, Double(tokens) / decode,
                     decode * 1000 / Double(tokens), Double(parameters * 4) * Double(tokens) / decode / 1e9))
        print("KV cache: \(generator.cacheBytesPerPosition / 1024) KB per token")
    }
}
