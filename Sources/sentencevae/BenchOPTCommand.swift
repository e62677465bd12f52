import ArgumentParser
import Foundation
import NeuralNet
import SentenceModels
import TensorCore

/// `sentencevae bench opt`: token-level OPT inference speed at the real model shapes.
struct BenchOPTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "opt",
        abstract: "Measure OPT prefill and decode speed (batch 1, KV cache, fp32 compute) at a real model shape.",
        discussion: """
            The weights are zeros of the right shapes (speed does not depend on their values), so no \
            download is needed. Decoding streams every weight once per token, so it is bound by memory \
            bandwidth: compare with `bench kernels`' read bandwidth. --weights bf16 or q8 stores the \
            matrices compactly (as `llm --weights` does); give several, e.g. --weights f32,bf16,q8 \
            --rounds 3, to time them in interleaved rounds, since these machines' speed drifts: each \
            round prefills every format, then the formats decode in turns of --decode-turn tokens, in \
            an order shuffled for each turn, so that all of them meet the same moments of the \
            machine. Each format's decode speed over the first's is then also printed as taken inside \
            each round, with the median. --all-kernels times each format on every one-row kernel this \
            CPU can run, in the same turns, to compare them in one run. --torch \
            'PYTHON Tools/reference/bench_torch_opt.py' runs HF PyTorch's OPT on the same workload \
            (shape, prompt, tokens, threads) after each of our rounds and prints our fp32 speed over \
            its, taken inside each round, with the median.
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

    @Option(help: "Weight storage: f32, bf16 or q8; several separated by commas (e.g. f32,bf16,q8) are timed in interleaved rounds.")
    var weights: WeightList = WeightList(formats: [.f32])

    @Option(help: "Rounds per storage format (interleaved when several are given).")
    var rounds: Int = 1

    @Option(help: "Tokens each format decodes in its turn inside a round, when several are timed (these machines' speed moves within a second; --decode-turn equal to --tokens decodes each format's tokens in one go).")
    var decodeTurn: Int = 4

    @Option(help: "Prefills timed in each round, each on an empty cache; the round's prefill is their median (one 64-token prefill lasts tens of ms, shorter than these machines' swings). --torch's rounds time theirs alike.")
    var prefills: Int = 5

    @Flag(help: "Print one JSON object instead: {\"cpu\", \"size\", \"threads\", \"prompt\", \"prefills\", \"tokens\", \"decode_turn\", \"rounds\", \"results\": [{\"weights\", \"prefill_tokens_per_s\", \"decode_tokens_per_s\" (medians), \"decode_gb_per_s\", \"weight_bytes\", \"prefill_rounds\", \"decode_rounds\", \"decode_ratio_rounds\" and \"decode_ratio_median\" (decode speed over the first format's, inside each round), with --all-kernels \"kernel\"}], \"kv_cache_kb_per_token\", and with --torch \"pytorch\" and \"ratios\"}.")
    var json = false

    @Flag(help: "Time each format on every one-row kernel this CPU can run, in the same turns (e.g. q8/vnni, q8/avx512, q8/avx2, q8/portable), its default kernel first; the ratios are over the first format on its default kernel.")
    var allKernels = false

    @Option(help: "A command that runs Tools/reference/bench_torch_opt.py (e.g. '/tmp/venv/bin/python Tools/reference/bench_torch_opt.py'), run after each of our rounds.")
    var torch: String?

    func validate() throws {
        guard prompt >= 1, tokens >= 1, prompt + tokens <= 2048 else {
            throw ValidationError("--prompt and --tokens must be ≥ 1 with prompt + tokens ≤ 2048")
        }
        try checkThreads(threads)
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        guard prefills >= 1 else { throw ValidationError("--prefills must be at least 1") }
        guard decodeTurn >= 1 else { throw ValidationError("--decode-turn must be at least 1") }
        _ = try commaList(weights.formats.map(\.rawValue).joined(separator: ","), option: "--weights")
        if torch != nil, !weights.formats.contains(.f32) {
            throw ValidationError("--torch compares with our fp32 decoding: include f32 in --weights")
        }
    }

    /// One timed prefill + decode.
    struct Timing {
        var prefill: Double
        var decode: Double
    }

    /// The tokens of each turn a format decodes in a round: `turn` at a time, the rest last.
    static func turns(tokens: Int, turn: Int) -> [Int] {
        stride(from: 0, to: tokens, by: turn).map { min(turn, tokens - $0) }
    }

    /// The order the formats take their turns in, shuffled afresh for each turn (seeded, so a run
    /// repeats): on an AMD Zen 4 VM the same q8 model decoded 3–7 % slower in the turn right after
    /// fp32's than after another q8 turn, and a fixed order charged that to one format.
    struct TurnOrder {
        private var random = RandomGenerator(seed: 2408)

        mutating func next(_ count: Int) -> [Int] {
            var order = Array(0..<count)
            order.shuffle(using: &random)
            return order
        }
    }

    func run() throws {
        if let threads { Threads.count = threads }
        let config = size.configuration
        // Zeros of the right shapes, written: untouched zero pages would all read one physical page
        // and fake the memory traffic. Each format gets its matrices from them.
        let model = try withoutRandomInitialization { try OPTModel(config: config) }
        for (_, p) in model.parameters() { p.data.update(repeating: 0, count: p.count) }
        // One entry per format, or per format and kernel (--all-kernels: the same weights, each
        // entry with its own cache); the kernels' switches are set before each entry's turn.
        let defaults = KernelChoice.current
        defer { defaults.apply() }
        var generators: [(format: WeightFormat, kernel: KernelChoice?, label: String, generator: OPTGenerator, bytes: Int)] = []
        for format in weights.formats {
            let stored: InferenceWeights
            do { stored = try ModelFactory.inferenceWeights(converting: model, to: format) } catch { throw CLIError("\(error)") }
            let available = KernelChoice.available(for: format)
            let kernels: [KernelChoice?] = allKernels
                ? available.filter { $0.sameKernel(as: defaults, for: format) } + available.filter { !$0.sameKernel(as: defaults, for: format) }
                : [nil]
            for kernel in kernels {
                generators.append((format, kernel, format.rawValue + (kernel.map { "/" + $0.name } ?? ""),
                                   OPTGenerator(model: model, capacity: prompt + tokens, weights: stored), stored.bytes(of: model)))
            }
        }
        func use(_ i: Int) { (generators[i].kernel ?? defaults).apply() }
        let ids = (0..<prompt).map { 4 + $0 % 1000 }
        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        /// The median of `prefills` timed prefills, and the first token to decode after them.
        func prefill(_ generator: OPTGenerator) throws -> (seconds: Double, next: Int) {
            var logits = generator.logits
            var prefillTimes: [Double] = []
            for _ in 0..<prefills {
                generator.reset()
                prefillTimes.append(try seconds { logits = try generator(ids) })
            }
            return (prefillTimes.sorted()[prefillTimes.count / 2], Sampler.argmax(logits, count: config.vocabularySize))
        }
        /// `count` greedy tokens from `next`, timed; `next` becomes the token after them.
        func decode(_ generator: OPTGenerator, _ count: Int, from next: inout Int) throws -> Double {
            try seconds {
                for _ in 0..<count {
                    next = Sampler.argmax(try generator(token: next), count: config.vocabularySize)
                }
            }
        }
        for (i, g) in generators.enumerated() {   // warm-up: sizes the buffers, faults the pages in
            use(i)
            try g.generator(ids)
        }

        let parameters = model.parameterCount
        let names = generators.map(\.label).joined(separator: ", ")
        // In JSON mode the lines below go nowhere: one object is printed at the end.
        func print(_ line: String) { if !json { Swift.print(line) } }
        print("CPU: \(CPUFeatures.current()?.summary ?? "unknown")")
        print("OPT-\(size.rawValue) shape, \(parameters / 1_000_000) M parameters, batch 1, \(Threads.count) thread(s), weights \(names)"
              + (rounds > 1 || generators.count > 1 ? " (\(rounds) interleaved round(s))" : ""))
        var timings = [[Timing]](repeating: [], count: generators.count)
        var against: [(decode: Double, prefill: Double)] = []   // ours / PyTorch's, one per round
        var theirs: [(prefill: Double, decode: Double)] = []
        let turns = Self.turns(tokens: tokens, turn: decodeTurn)
        var turnOrder = TurnOrder()
        for round in 1...rounds {
            // Every format's prefills, then their decoding in turns.
            var times = [Timing](), next = [Int]()
            for (i, g) in generators.enumerated() {
                use(i)
                let (seconds, first) = try prefill(g.generator)
                times.append(Timing(prefill: seconds, decode: 0))
                next.append(first)
            }
            for count in turns {
                for i in turnOrder.next(generators.count) {
                    use(i)
                    times[i].decode += try decode(generators[i].generator, count, from: &next[i])
                }
            }
            for (i, g) in generators.enumerated() {
                let t = times[i]
                timings[i].append(t)
                let label = generators.count > 1 || rounds > 1 ? "[\(g.label) round \(round)] " : ""
                print(label + String(format: "prefill %d tokens: %.1f tokens/s (%.1f ms)", prompt, Double(prompt) / t.prefill, t.prefill * 1000))
                print(label + String(format: "decode %d tokens: %.1f tokens/s (%.1f ms/token, %.1f GB/s of weights)", tokens, Double(tokens) / t.decode,
                                     t.decode * 1000 / Double(tokens), Double(g.bytes) * Double(tokens) / t.decode / 1e9))
                fflush(stdout)
                if let torch, i == generators.firstIndex(where: { $0.format == .f32 }) {
                    let reference = try torchRound(torch)
                    theirs.append(reference)
                    against.append((Double(tokens) / t.decode / reference.decode, Double(prompt) / t.prefill / reference.prefill))
                    print("[PyTorch round \(round)] " + String(format: "prefill %.1f tokens/s, decode %.1f tokens/s: ours %.2f× and %.2f×",
                                                                reference.prefill, reference.decode, against.last!.prefill, against.last!.decode))
                    fflush(stdout)
                }
            }
        }
        func list(_ values: [Double]) -> String {
            values.map { String(format: "%.2f", $0) }.joined(separator: ", ") + (values.count > 1 ? String(format: " (median %.2f)", median(values)) : "")
        }
        /// Decode speed of format `i` over the first format's, inside each round: the fair figure on
        /// a machine whose speed drifts between rounds.
        func decodeRatios(_ i: Int) -> [Double] { zip(timings[0], timings[i]).map { $0.decode / $1.decode } }
        if generators.count > 1 || rounds > 1 {
            let base = median(timings[0].map { Double(tokens) / $0.decode })
            for (i, g) in generators.enumerated() {
                let decode = median(timings[i].map { Double(tokens) / $0.decode }), prefill = median(timings[i].map { Double(prompt) / $0.prefill })
                print("median \(g.label): " + String(format: "decode %.1f tokens/s (%.2f× ", decode, decode / base)
                      + generators[0].label + String(format: "), prefill %.1f tokens/s, %.0f MB of weights", prefill, Double(g.bytes) / 1e6))
            }
        }
        for i in generators.indices.dropFirst() {
            print("\(generators[i].label) / \(generators[0].label) decode, inside each round: " + list(decodeRatios(i)))
        }
        if !against.isEmpty {
            print("ours / PyTorch (fp32), inside each round: decode " + list(against.map(\.decode)) + "; prefill " + list(against.map(\.prefill)))
        }
        print("KV cache: \(generators[0].generator.cacheBytesPerPosition / 1024) KB per token")
        guard json else { return }
        var out: [String: Any] = [
            "cpu": CPUFeatures.current()?.summary ?? "unknown", "size": size.rawValue, "threads": Threads.count,
            "prompt": prompt, "prefills": prefills, "tokens": tokens, "decode_turn": decodeTurn, "rounds": rounds,
            "kv_cache_kb_per_token": Double(generators[0].generator.cacheBytesPerPosition) / 1024,
            "results": generators.indices.map { i -> [String: Any] in
                let decode = timings[i].map { Double(tokens) / $0.decode }, prefill = timings[i].map { Double(prompt) / $0.prefill }
                var result: [String: Any] = [
                    "weights": generators[i].format.rawValue, "weight_bytes": generators[i].bytes,
                    "decode_tokens_per_s": median(decode), "prefill_tokens_per_s": median(prefill),
                    "decode_gb_per_s": median(decode) * Double(generators[i].bytes) / 1e9,
                    "decode_rounds": decode, "prefill_rounds": prefill,
                    "decode_ratio_rounds": decodeRatios(i), "decode_ratio_median": median(decodeRatios(i))]
                if let kernel = generators[i].kernel { result["kernel"] = kernel.name }
                return result
            },
        ]
        if !theirs.isEmpty {
            out["pytorch"] = ["decode_rounds": theirs.map(\.decode), "prefill_rounds": theirs.map(\.prefill)]
            out["ratios"] = ["decode_rounds": against.map(\.decode), "prefill_rounds": against.map(\.prefill),
                             "decode_median": median(against.map(\.decode)), "prefill_median": median(against.map(\.prefill))]
        }
        Swift.print(try jsonLine(out))
    }

    /// One run of the PyTorch script on this workload: its prefill and decode tokens/s.
    private func torchRound(_ command: String) throws -> (prefill: Double, decode: Double) {
        let result = try ChildProcess.json(command: command, ["--size", size.rawValue, "--prompt", String(prompt), "--tokens", String(tokens),
                                                              "--prefills", String(prefills), "--threads", String(Threads.count), "--json"],
                                     what: "PyTorch")
        guard let prefill = result["prefill_tokens_per_s"] as? Double, let decode = result["decode_tokens_per_s"] as? Double,
              prefill > 0, decode > 0 else {
            throw CLIError("PyTorch: its JSON has no prefill_tokens_per_s and decode_tokens_per_s (is the command Tools/reference/bench_torch_opt.py?)")
        }
        return (prefill, decode)
    }
}

/// `--weights f32,bf16,q8`: one or more storage formats.
struct WeightList: ExpressibleByArgument {
    let formats: [WeightFormat]

    init(formats: [WeightFormat]) { self.formats = formats }

    init?(argument: String) {
        let parts = argument.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let formats = parts.compactMap(WeightFormat.init(rawValue:))
        guard !formats.isEmpty, formats.count == parts.count else { return nil }
        self.formats = formats
    }

    var defaultValueDescription: String { formats.map(\.rawValue).joined(separator: ",") }

    static var defaultCompletionKind: CompletionKind { .list(WeightFormat.allCases.map(\.rawValue)) }
}
