import ArgumentParser
import Foundation
import SentenceModels
import TensorCore

/// Options every generating command shares: threads and how tokens are chosen.
struct GenerationOptions: ParsableArguments {
    @Option(help: "Kernel threads, the calling thread included (default: all cores).")
    var threads: Int?

    @Option(help: "Sampling temperature; 0 = greedy (argmax).")
    var temperature: Float = 0

    @Option(name: .customLong("top-k"), help: "Sample only among the k most likely tokens (0 = all).")
    var topK: Int = 0

    @Option(name: .customLong("top-p"), help: "Sample only among the most likely tokens whose probability adds up to p (1 = all).")
    var topP: Float = 1

    @Option(help: "Seed of the sampler (same seed, same text).")
    var seed: UInt64 = 0

    @Option(name: .customLong("max-length"), help: "Most tokens generated per sentence/answer (default: the model's limit).")
    var maxLength: Int?

    @Option(name: .customLong("repetition-penalty"),
            help: "transformers' repetition_penalty: logits of tokens already in the text divided (positive) or multiplied (negative) by it; 1 = off, e.g. 1.2. Works with greedy decoding too; the SLLM never penalises the end of sentence.")
    var repetitionPenalty: Float = 1

    @Option(name: .customLong("no-repeat-ngram-size"),
            help: "transformers' no_repeat_ngram_size: never pick a token that completes an n-gram already in the text (0 = off), e.g. 3. The SLLM never bans the end of sentence.")
    var noRepeatNgramSize: Int = 0

    var sampling: SamplingOptions {
        SamplingOptions(temperature: temperature, topK: topK, topP: topP, seed: seed, repetitionPenalty: repetitionPenalty,
                        noRepeatNgramSize: noRepeatNgramSize)
    }

    func validate() throws {
        try checkThreads(threads)
        if let maxLength, maxLength < 1 { throw ValidationError("--max-length must be at least 1 (got \(maxLength))") }
        do { try sampling.validate() } catch { throw ValidationError("\(error)") }
    }

    func applyThreads() {
        if let threads { Threads.count = threads }
    }
}

/// Wall-clock timing of a generation run: time to first token and decode throughput.
struct GenerationStats {
    private let start = DispatchTime.now().uptimeNanoseconds
    private(set) var firstToken: Double?
    private(set) var tokens = 0

    static func seconds(since t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9 }

    mutating func token() {
        if firstToken == nil { firstToken = Self.seconds(since: start) }
        tokens += 1
    }

    /// Seconds since the start.
    var seconds: Double { Self.seconds(since: start) }

    /// Tokens per second since the start (time to first token included).
    var tokensPerSecond: Double {
        let total = seconds
        return total > 0 ? Double(tokens) / total : 0
    }

    /// "time to first token 0.021 s, 57 tokens in 1.23 s (46.3 tokens/s)".
    var summary: String {
        let total = seconds
        let ttft = firstToken.map { String(format: "%.3f s", $0) } ?? "n/a"
        let rate = total > 0 ? Double(tokens) / total : 0
        return "time to first token \(ttft), \(tokens) tokens in \(String(format: "%.2f", total)) s (\(String(format: "%.1f", rate)) tokens/s)"
    }
}

/// Writes to standard error (warnings and progress never mix with the JSON on stdout).
func warn(_ message: String) {
    guard !Warnings.silenced else { return }
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

enum Warnings {
    /// Set on the ranks of a data-parallel job other than 0, so notes are printed once; errors
    /// are printed by whichever rank has them.
    nonisolated(unsafe) static var silenced = false
}

/// JSON for the command-line contracts: keys in a fixed order, no escaping of "/".
func jsonLine(_ object: Any) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
    return String(decoding: data, as: UTF8.self)
}
