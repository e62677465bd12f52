import ArgumentParser
import Foundation
import ModelIO
import NeuralNet
import SentenceModels
import TensorCore
import Tokenization

/// `sentencevae bench generate`: the paper's speed/memory table (the original's
/// `tools/benchmark/benchmark_{llm,sllm}.py`) for OPT against SLLM-H1/H2/H4 on this machine.
struct BenchGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generation speed and KV-cache memory: token-level OPT against SLLM-H1/H2/H4 at the paper's sizes.",
        discussion: """
            Random weights at the real shapes (OPT-125m/350m/1.3b; the SLLM's SVAE at the OPT's width with \
            1, 2 or 4 layers, vocabulary 50272), batch 1, greedy. Workload (the same as \
            Tools/reference/bench_torch_generate.py, whose docstring is the full specification): built-in \
            passages of Pride and Prejudice, pre-tokenized (or --passages FILE in that JSON layout); the \
            first half of each passage's sentences is the prompt, and as many sentences as the second half \
            holds are generated, each forced to --sentence-tokens tokens (EOS and the stop head ignored); \
            the OPT generates the same number of tokens after the same prompt text.

            Each model runs in a child process from a checkpoint written in its storage format first, so \
            peak RSS is that model's alone and a bf16/q8 model is read in place, as a converted file is. \
            Reported: input tokens/s (prompt tokens / prefill time), output tokens/s (generated tokens / \
            time after the prefill), time to first token, KB of cache per token held (slope of the \
            engine's cache bytes against tokens held, over every cache update), peak RSS, load time, and \
            for OPT the decode speed as a share of the memory read bandwidth measured right before it \
            (% of BW: output tokens/s × weight bytes read per token ÷ bandwidth). \
            --torch 'PYTHON Tools/reference/bench_torch_generate.py' runs the PyTorch side after each of \
            our fp32 runs, so the ratios come from interleaved runs. --rounds N runs every model N times, \
            interleaved (round 1: every model once, then round 2, …): each figure is the median over the \
            rounds, and the ratios (each SLLM against the OPT at the same weights, ours against PyTorch) \
            are taken inside each round, so that a drift of the machine's speed between models a few \
            minutes apart does not become a ratio.

            --family DIR measures a trained family instead (the layout of Models/, e.g. the shipped \
            default models): its OPT and its SLLM, each sentence of the passages' text tokenized with \
            its tokenizer (cut to the SVAE's 32 positions), in the files' own weight format unless \
            --weights is given. Sentences are still forced to --sentence-tokens tokens.
            """
    )

    enum Model: String, CaseIterable {
        case opt, sllmH1 = "sllm-h1", sllmH2 = "sllm-h2", sllmH4 = "sllm-h4"
        var svaeLayers: Int? { switch self { case .opt: nil; case .sllmH1: 1; case .sllmH2: 2; case .sllmH4: 4 } }
    }

    @Option(help: "Model shape: 125m, 350m or 1.3b.")
    var size: BenchOPTCommand.Size = .opt125m

    @Option(help: "Models, comma-separated: \(Model.allCases.map(\.rawValue).joined(separator: ",")) (default: all); with --family: opt,sllm (default: both).")
    var models: String?

    @Option(help: "Weight storage, comma-separated: f32, bf16, q8 (default: f32; with --family: as the files are stored).")
    var weights: String?

    @Option(help: "A trained model family to measure instead of random weights (the layout of Models/: opt/, svae.yaml, sllm.yaml, …).")
    var family: String?

    @Option(help: "Tokens in every generated sentence.")
    var sentenceTokens: Int = 12

    @Option(help: "Passages (JSON: {\"passages\": [{\"sentences\": [[2, ids…], …]}]}); default: the built-in sample.")
    var passages: String?

    @Option(help: "Use only the first N passages.")
    var limit: Int?

    @Option(help: "Rounds: every model runs once per round, interleaved; figures are medians over the rounds and ratios are taken inside each round.")
    var rounds = 1

    @Option(help: "Kernel threads (default: all cores).")
    var threads: Int?

    @Option(help: "A command that runs Tools/reference/bench_torch_generate.py (e.g. '/tmp/venv/bin/python Tools/reference/bench_torch_generate.py'); run after each fp32 model.")
    var torch: String?

    @Flag(help: "Print JSON: {\"results\": [{model, size, weights, input_tokens_per_s, output_tokens_per_s, ttft_s, kb_per_token, peak_rss_mb, …}]}.")
    var json = false

    @Flag(help: "Print a Markdown table (for BENCHMARKS.md).")
    var markdown = false

    @Option(help: .hidden) var childCheckpoint: String?
    @Flag(help: .hidden) var childFamily = false

    func validate() throws {
        guard sentenceTokens >= 1, sentenceTokens <= 31 else { throw ValidationError("--sentence-tokens must be between 1 and 31 (the SVAE's 32 positions hold BOS and the sentence)") }
        try checkThreads(threads)
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1 (got \(rounds))") }
        _ = try selectedModels()
        _ = try selectedFormats()
        if family != nil {
            _ = try selectedFamilyModels()
            if torch != nil { throw ValidationError("--torch measures random weights at the paper's shapes; it does not take --family") }
        }
    }

    func selectedModels() throws -> [Model] {
        guard family == nil else { return [] }
        return try commaList(models ?? Model.allCases.map(\.rawValue).joined(separator: ","), option: "--models").map { name in
            guard let m = Model(rawValue: name) else {
                throw ValidationError("unknown model '\(name)' in --models; choose from \(Model.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return m
        }
    }

    /// The family's models to run: "opt" and/or "sllm".
    func selectedFamilyModels() throws -> [String] {
        let names = try commaList(models ?? "opt,sllm", option: "--models")
        for name in names where name != "opt" && name != "sllm" {
            throw ValidationError("unknown model '\(name)' in --models; with --family choose from opt, sllm")
        }
        return names
    }

    /// The formats asked for; empty with --family and no --weights (each file's own format).
    func selectedFormats() throws -> [WeightFormat] {
        guard let weights else { return family == nil ? [.f32] : [] }
        return try commaList(weights, option: "--weights").map { name in
            guard let f = WeightFormat(rawValue: name) else { throw ValidationError("unknown weight format '\(name)'; choose f32, bf16 or q8") }
            return f
        }
    }

    func run() throws {
        if let threads { Threads.count = threads }
        if let family { return try runFamily(family) }
        let workload = try loadWorkload()
        let models = try selectedModels(), formats = try selectedFormats()
        if let childCheckpoint {
            guard models.count == 1, formats.count == 1 else { throw CLIError("a child run measures one model in one format") }
            print(try jsonLine(try measure(models[0], formats[0], checkpoint: childCheckpoint, workload)))
            return
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sentencevae-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var ours: [[[String: Any]]] = [], theirs: [[[String: Any]]] = []
        for round in 1...rounds {
            var results: [[String: Any]] = [], reference: [[String: Any]] = []
            for model in models {
                for format in formats {
                    // Written afresh for each run (a 1.3b family in three formats would hold ~25 GB
                    // of disk across rounds); each run so finds its file in the page cache alike.
                    let label = "\(model.rawValue)-\(size.rawValue) \(format.rawValue)" + (rounds > 1 ? " (round \(round) of \(rounds))" : "")
                    warn("\(label): writing random weights…")
                    let file = scratch + "/\(model.rawValue)-\(format.rawValue).safetensors"
                    try writeRandomCheckpoint(model, format, to: file)
                    // The ceiling of one-row products, measured here (not in the child: its 512 MB would
                    // count in the model's peak RSS) right before the model runs: the figure moves.
                    let bandwidth = KernelBenchmark.readBandwidth(threads: Threads.count)
                    warn("\(label): generating…")
                    results.append(Self.adding(bandwidth: bandwidth, to: try child(model, format, checkpoint: file)))
                    try? FileManager.default.removeItem(atPath: file)
                    if let torch, format == .f32 {
                        warn("\(label): PyTorch…")
                        reference.append(try runTorch(torch, model))
                    }
                }
            }
            ours.append(results)
            theirs.append(reference)
        }
        try report(ours, theirs)
    }

    /// The medians over the rounds and the ratios taken inside them, as JSON, Markdown or a table.
    func report(_ ours: [[[String: Any]]], _ theirs: [[[String: Any]]], family: String? = nil) throws {
        let results = GenerationRounds.medians(ours), reference = GenerationRounds.medians(theirs.filter { !$0.isEmpty })
        let ratios = GenerationRounds.ratios(ours, torch: theirs)
        if json {
            var out: [String: Any] = ["results": results, "ratios": ratios, "rounds": rounds,
                                      "cpu": CPUFeatures.current()?.summary ?? "unknown"]
            if !reference.isEmpty { out["pytorch"] = reference }
            if let family { out["family"] = family }
            print(try jsonLine(out))
            return
        }
        printTable(results, reference, ratios: ratios)
        guard !ratios.isEmpty else { return }
        print(markdown ? "" : "Output tokens/s ratios, taken inside each round:")
        for line in GenerationRounds.lines(ratios) { print(markdown ? "- \(line)" : "  \(line)") }
    }

    // MARK: the workload

    /// The passages: their token ids as stored, or with `tokenizer` their text re-tokenized (a
    /// trained family has its own vocabulary): BOS + each sentence's ids, cut to 32 tokens.
    func loadWorkload(tokenizer: Tokenizer? = nil) throws -> GenerationWorkload {
        let path: String
        if let passages { path = passages } else {
            guard let url = Bundle.module.url(forResource: "bench-passages", withExtension: "json") else {
                throw CLIError("the built-in passages are missing from the build; pass --passages FILE")
            }
            path = url.path
        }
        let layout = "--passages takes a JSON file {\"passages\": [{\"sentences\": [[ids…], …]}, …]}"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw CLIError("\(path): no such file; \(layout)") }
        guard !isDirectory.boolValue else { throw CLIError("\(path) is a directory; \(layout)") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CLIError("\(path): cannot be read (\(error.localizedDescription))")
        }
        guard !data.isEmpty else { throw CLIError("\(path) is empty; \(layout)") }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw CLIError("\(path) is not valid JSON\(detail.map { " (\($0))" } ?? ""); \(layout)")
        }
        guard let list = (object as? [String: Any])?["passages"] as? [[String: Any]] else {
            throw CLIError("\(path): no \"passages\" list at the top; \(layout)")
        }
        var passages = try list.enumerated().map { i, p -> [[Int]] in
            if let tokenizer {
                guard let texts = p["text"] as? [String], !texts.isEmpty else {
                    throw CLIError("\(path): passage \(i + 1): --family needs each sentence's \"text\"")
                }
                guard let bos = tokenizer.bosId else { throw CLIError("the family's tokenizer has no BOS token") }
                return texts.map { [bos] + tokenizer.encode($0, addSpecialTokens: false).prefix(31) }
            }
            guard let sentences = p["sentences"] as? [[Int]], sentences.allSatisfy({ !$0.isEmpty && $0.count <= 32 }) else {
                throw CLIError("\(path): passage \(i + 1): \"sentences\" must be lists of 1–32 token ids")
            }
            return sentences
        }
        if let limit { passages = Array(passages.prefix(limit)) }
        let workload = GenerationWorkload(passages: passages, sentenceTokens: sentenceTokens)
        guard !workload.passages.isEmpty else { throw CLIError("\(path): no passage has 2 or more sentences") }
        return workload
    }

    // MARK: a trained family

    func runFamily(_ directory: String) throws {
        let family = try ModelChoice.defaultFamily(explicit: directory)
        let tokenizer = try ModelAssets.tokenizer(family.optDirectory)
        let workload = try loadWorkload(tokenizer: tokenizer)
        let names = try selectedFamilyModels()
        let asked = try selectedFormats()
        let formats: [WeightFormat?] = asked.isEmpty ? [nil] : asked
        if childFamily {
            guard names.count == 1, formats.count == 1 else { throw CLIError("a child run measures one model in one format") }
            print(try jsonLine(try measureFamily(family, names[0], formats[0], workload)))
            return
        }
        var ours: [[[String: Any]]] = []
        for round in 1...rounds {
            var results: [[String: Any]] = []
            for name in names {
                for format in formats {
                    let label = "\(name) \(format?.rawValue ?? "as stored")" + (rounds > 1 ? " (round \(round) of \(rounds))" : "")
                    let bandwidth = KernelBenchmark.readBandwidth(threads: Threads.count)
                    warn("\(label): generating…")
                    var arguments = ["bench", "generate", "--family", family.directory, "--child-family", "--models", name,
                                     "--sentence-tokens", String(sentenceTokens), "--threads", String(Threads.count)]
                    if let format { arguments += ["--weights", format.rawValue] }
                    if let passages { arguments += ["--passages", passages] }
                    if let limit { arguments += ["--limit", String(limit)] }
                    results.append(Self.adding(bandwidth: bandwidth, to: try ChildProcess.json(executable: BLASStartup.executablePath, arguments, what: label)))
                }
            }
            ours.append(results)
        }
        try report(ours, [], family: family.directory)
    }

    /// Loads one of the family's models and runs the workload (in the child process).
    func measureFamily(_ family: DefaultModels, _ name: String, _ format: WeightFormat?, _ workload: GenerationWorkload) throws -> [String: Any] {
        let loadStart = DispatchTime.now().uptimeNanoseconds
        func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9 }
        let m: GenerationMeasurement, label: String, stored: WeightFormat, loadSeconds: Double
        var weightBytes: Int?
        do {
            if name == "sllm" {
                let (loaded, config) = try family.sllm(storage: format)
                loadSeconds = seconds()
                label = "sllm-h\(config.svae.numHiddenLayers)"
                stored = format ?? DefaultModels.storedFormat(family.sllmCheckpoint)
                m = try GenerationBenchmark.run(SentenceLLMGenerator(sllm: loaded.model, capacity: 64, weights: loaded.weights), workload)
            } else {
                let loaded = try family.opt(storage: format)
                loadSeconds = seconds()
                label = "opt"
                stored = format ?? DefaultModels.storedFormat(family.optDirectory + "/model.safetensors")
                m = try GenerationBenchmark.run(OPTGenerator(model: loaded.model, capacity: 2048, weights: loaded.weights), workload)
                weightBytes = Self.decodeWeightBytes(loaded.model, loaded.weights)
            }
        } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
        return Self.row(model: label, size: "family", weights: stored, m, loadSeconds: loadSeconds, weightBytes: weightBytes)
    }

    // MARK: models

    var optConfiguration: OPTConfiguration { size.configuration }

    func svaeConfiguration(layers: Int) -> SentenceVAEConfiguration {
        let llm = optConfiguration
        return SentenceVAEConfiguration(hiddenSize: llm.hiddenSize, vocabularySize: llm.vocabularySize,
                                        wordEmbedProjectionDim: llm.wordEmbedProjectionDim, attentionHeads: llm.attentionHeads,
                                        layers: layers, maxSequenceLength: 32)
    }

    /// Random weights saved in the storage format, so the child reads them as a converted file.
    func writeRandomCheckpoint(_ model: Model, _ format: WeightFormat, to path: String) throws {
        let layer: Layer
        if let k = model.svaeLayers {
            layer = try ModelFactory.sllm(svae: svaeConfiguration(layers: k), llm: optConfiguration, weights: .random(seed: 0)).model
        } else {
            layer = try ModelFactory.opt(configuration: optConfiguration, weights: .random(seed: 0)).model
        }
        // The parameters' memory is borrowed, not copied (1.3b is 5 GB in fp32).
        let tensors = try layer.parameters().map { name, t in
            try TensorData(name: name, dtype: .f32, shape: t.shape,
                           storage: ByteStorage(borrowing: UnsafeRawBufferPointer(start: t.data, count: t.count * 4), owner: t),
                           byteRange: 0..<(t.count * 4))
        }
        let stored = format == .f32 ? tensors : try StoredMatrices.convert(StateDict(tensors), to: format).tensors
        try SafetensorsWriter.write(stored, metadata: [StoredMatrices.metadataKey: format.rawValue, "format": "pt"], alignment: 64, to: path)
    }

    /// Loads the checkpoint as `--weights format` and runs the workload (in the child process).
    func measure(_ model: Model, _ format: WeightFormat, checkpoint: String, _ workload: GenerationWorkload) throws -> [String: Any] {
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let m: GenerationMeasurement
        var loadSeconds = 0.0
        var weightBytes: Int?
        if let k = model.svaeLayers {
            let loaded = try ModelFactory.sllm(svae: svaeConfiguration(layers: k), llm: optConfiguration, weights: .checkpoint(checkpoint), storage: format)
            loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
            let generator = SentenceLLMGenerator(sllm: loaded.model, capacity: 64, weights: loaded.weights)
            m = try GenerationBenchmark.run(generator, workload)
        } else {
            let loaded = try ModelFactory.opt(configuration: optConfiguration, weights: .checkpoint(checkpoint), storage: format)
            loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
            m = try GenerationBenchmark.run(OPTGenerator(model: loaded.model, capacity: 2048, weights: loaded.weights), workload)
            weightBytes = Self.decodeWeightBytes(loaded.model, loaded.weights)
        }
        return Self.row(model: model.rawValue, size: size.rawValue, weights: format, m, loadSeconds: loadSeconds, weightBytes: weightBytes)
    }

    /// Bytes of weights an OPT decoding step reads: every weight once (the tied embedding as the LM
    /// head), except the position table, of which it reads one row.
    static func decodeWeightBytes(_ model: OPTModel, _ weights: InferenceWeights) -> Int {
        weights.bytes(of: model) - model.embedPositions.weight.count * 4
    }

    /// One model's figures, as a child run prints them.
    static func row(model: String, size: String, weights: WeightFormat, _ m: GenerationMeasurement, loadSeconds: Double,
                    weightBytes: Int?) -> [String: Any] {
        var result: [String: Any] = ["model": model, "size": size, "weights": weights.rawValue,
                "input_tokens_per_s": m.inputTokensPerSecond, "output_tokens_per_s": m.outputTokensPerSecond,
                "ttft_s": m.timeToFirstToken, "kb_per_token": m.kilobytesPerToken, "peak_rss_mb": peakRSSMegabytes(),
                "load_s": loadSeconds, "threads": Threads.count, "input_tokens": m.inputTokens, "output_tokens": m.outputTokens,
                "engine": "swift-sentencevae"]
        if let weightBytes { result["weight_bytes_per_token"] = Double(weightBytes) }
        return result
    }

    /// A child's result with the read bandwidth measured right before it, and (for OPT) decoding's
    /// share of that bandwidth.
    static func adding(bandwidth: Double, to child: [String: Any]) -> [String: Any] {
        var result = child
        result["read_bandwidth_gbs"] = bandwidth
        if let bytes = result["weight_bytes_per_token"] as? Double, let speed = result["output_tokens_per_s"] as? Double {
            result["decode_bandwidth_share"] = speed * bytes / (bandwidth * 1e9)
        }
        return result
    }

    /// This process's peak resident memory. On Linux that is `VmHWM` of /proc/self/status, not
    /// getrusage's `ru_maxrss`: the latter carries over fork + exec, so a child would report its
    /// parent's peak (the bench parent writing a 500 MB random checkpoint) instead of its own.
    static func peakRSSMegabytes() -> Double {
        #if os(macOS)
        var usage = rusage()
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / 1_048_576   // bytes
        #else
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kb = Double(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") {
            return kb / 1024
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024        // KB
        #endif
    }

    // MARK: child processes

    func child(_ model: Model, _ format: WeightFormat, checkpoint: String) throws -> [String: Any] {
        var arguments = ["bench", "generate", "--child-checkpoint", checkpoint, "--models", model.rawValue, "--size", size.rawValue,
                         "--weights", format.rawValue, "--sentence-tokens", String(sentenceTokens), "--threads", String(Threads.count)]
        if let passages { arguments += ["--passages", passages] }
        if let limit { arguments += ["--limit", String(limit)] }
        return try ChildProcess.json(executable: BLASStartup.executablePath, arguments, what: "\(model.rawValue) \(format.rawValue)")
    }

    func runTorch(_ command: String, _ model: Model) throws -> [String: Any] {
        var arguments = ["--size", size.rawValue, "--models", model.rawValue, "--sentence-tokens", String(sentenceTokens),
                         "--threads", String(Threads.count), "--json"]
        if let passages { arguments += ["--passages", passages] }
        if let limit { arguments += ["--limit", String(limit)] }
        let result = try ChildProcess.json(command: command, arguments, what: "PyTorch \(model.rawValue)")
        guard let first = (result["results"] as? [[String: Any]])?.first else { throw CLIError("PyTorch \(model.rawValue): no results in its JSON") }
        return first
    }

    // MARK: output

    func printTable(_ results: [[String: Any]], _ reference: [[String: Any]], ratios: [[String: Any]]) {
        func number(_ r: [String: Any], _ key: String) -> Double { r[key] as? Double ?? .nan }
        let torch = Dictionary(reference.map { ($0["model"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        let header = ["model", "size", "weights", "input tok/s", "output tok/s", "TTFT s", "KB/token", "peak RSS MB", "load s", "% of BW"]
            + (reference.isEmpty ? [] : ["PyTorch out tok/s", "ratio", "PyTorch KB/token"])
        var rows: [[String]] = []
        for r in results {
            let name = r["model"] as? String ?? ""
            var row = [name, r["size"] as? String ?? "", r["weights"] as? String ?? "",
                       String(format: "%.1f", number(r, "input_tokens_per_s")), String(format: "%.1f", number(r, "output_tokens_per_s")),
                       String(format: "%.3f", number(r, "ttft_s")), String(format: "%.2f", number(r, "kb_per_token")),
                       String(format: "%.0f", number(r, "peak_rss_mb")), String(format: "%.2f", number(r, "load_s")),
                       r["decode_bandwidth_share"].map { String(format: "%.0f", ($0 as? Double ?? .nan) * 100) } ?? ""]
            if !reference.isEmpty {
                if let t = torch[name], r["weights"] as? String == "f32" {
                    // The median of the ratios taken inside each round (one round: the plain ratio).
                    let ratio = ratios.first { $0["model"] as? String == name && $0["weights"] as? String == "f32" && $0["against"] as? String == "pytorch" }
                    row += [String(format: "%.1f", number(t, "output_tokens_per_s")),
                            String(format: "%.2f", ratio?["median"] as? Double ?? .nan),
                            String(format: "%.2f", number(t, "kb_per_token"))]
                } else { row += ["", "", ""] }
            }
            rows.append(row)
        }
        if markdown {
            print("| " + header.joined(separator: " | ") + " |")
            print("|" + header.map { _ in "---" }.joined(separator: "|") + "|")
            for row in rows { print("| " + row.joined(separator: " | ") + " |") }
            return
        }
        let widths = header.indices.map { i in max(header[i].count, rows.map { $0[i].count }.max() ?? 0) + 2 }
        func line(_ cells: [String]) -> String { zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined() }
        print("CPU: \(CPUFeatures.current()?.summary ?? "unknown")")
        print("\(Threads.count) thread(s), batch 1, greedy, \(sentenceTokens)-token sentences")
        print(line(header))
        for row in rows { print(line(row)) }
    }
}
