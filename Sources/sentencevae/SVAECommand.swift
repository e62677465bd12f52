import ArgumentParser
import Foundation
import ModelIO
import NeuralNet
import SentenceModels
import TensorCore
import Tokenization

/// `sentencevae svae`: the original's `demo_svae.py` — each sentence is compressed to one vector
/// and decoded back from it, streamed to the terminal.
struct SVAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "svae",
        abstract: "Compress sentences to one vector each with a SentenceVAE and decode them back.",
        discussion: """
            CONFIG is an original-style SVAE YAML (e.g. Configs/SVAE/SVAE-768/svae_768_h1.yaml); its \
            ref_model_dir is the HF OPT directory that gives the tokenizer and the sizes (hidden size, \
            heads, vocabulary, special ids) through its config.json. CHECKPOINT is the trained model: \
            the original's mmengine .pth, or a .safetensors/.bin state dict with the same names. \
            Without -c and --checkpoint, the default models' SVAE (see `sentencevae demo --help`). \
            Without --input, the original demo's twelve sentences are used. Inputs longer than \
            max_seq_len tokens are truncated with a warning.
            """
    )

    @Option(name: [.customShort("c"), .customLong("config")], help: "The SVAE YAML config (default: the default models' SVAE).")
    var config: String?

    @Option(help: "The trained SentenceVAE checkpoint (.pth, .safetensors, .bin), with -c.")
    var checkpoint: String?

    @Option(name: .customLong("input"), help: "A sentence to compress and reconstruct (repeatable).")
    var inputs: [String] = []

    @Flag(help: "Print one JSON object: {\"results\": [{\"input\", \"input_ids\", \"output_ids\", \"output\", \"embedding\"}]}.")
    var json = false

    @Option(name: .customLong("set"), help: "Override a config key: key=value (repeatable), e.g. --set ref_model_dir=PATH.")
    var overrides: [String] = []

    @OptionGroup var generation: GenerationOptions

    @OptionGroup var storage: WeightOptions

    /// The sentences the original demo reconstructs when given no input.
    static let demoSentences = [
        "I love China.",
        "We come from Northwestern Polytechnical University.",
        "Hello,",
        "Welcome to TeleAI!",
        "What's your name?",
        "What's your problem?",
        "Hello, my dear friend",
        "Today is Friday.",
        "There is Institute of Artificial Intelligence (TeleAI), China Telecom.",
        "One two three four five six seven eight nine ten~",
        "Hahaha... and you?",
        "Yao yao ling xian!",
    ]

    func validate() throws {
        try ModelChoice.validate(config: config, checkpoint: checkpoint)
    }

    func run() throws {
        generation.applyThreads()
        let (cfg, loaded) = try ModelChoice.svae(config: config, checkpoint: checkpoint).svae(overrides: overrides, storage: storage)
        let model = loaded.model, modelConfig = model.config
        let tokenizer = try ModelAssets.tokenizer(loaded.referenceDirectory)

        // Inputs: empty ones are reported and skipped; long ones truncated like the original's tokenizer.
        let texts = inputs.isEmpty ? Self.demoSentences : inputs
        var kept: [(text: String, ids: [Int])] = []
        for (i, text) in texts.enumerated() {
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                warn("input \(i) is empty: nothing to compress (skipped)")
                continue
            }
            var ids = tokenizer.encode(text)
            if ids.count > cfg.maxSeqLen {
                warn("warning: input \(i) has \(ids.count) tokens; truncated to max_seq_len \(cfg.maxSeqLen)")
                ids = Array(ids.prefix(cfg.maxSeqLen))
            }
            kept.append((text, ids))
        }
        guard !kept.isEmpty else {
            if json { print(try jsonLine(["results": [Any]()])) } else { warn("nothing to do: every input was empty") }
            return
        }

        // All sentences are encoded in one batch; each is then decoded from its vector.
        var stats = GenerationStats()
        var vectors = [Float](repeating: 0, count: kept.count * modelConfig.hiddenSize)
        try SentenceEncoderStep(encoder: model.encoder, weights: loaded.weights).encode(kept.map(\.ids), into: &vectors)
        let decoder = SentenceDecoderGenerator(decoder: model.decoder, weights: loaded.weights)
        let sampler = try Sampler(options: generation.sampling, vocabulary: modelConfig.vocabularySize)
        var results: [[String: Any]] = []
        for (i, item) in kept.enumerated() {
            if !json {
                print("--------------------")
                print("[\(i)]\tTest Input: \(item.text)")
                print("\tTokens:\(item.ids.count)")
                print("\tVAE Output: ", terminator: "")
            }
            var stream = TextStream(tokenizer: tokenizer)
            let memory = Array(vectors[(i * modelConfig.hiddenSize)..<((i + 1) * modelConfig.hiddenSize)])
            sampler.forgetHistory()   // each sentence is a text of its own for --repetition-penalty
            let output = try decoder.generate(memory: memory, sampler: sampler, maxTokens: generation.maxLength) { id in
                stats.token()
                let piece = stream.append(id)
                if !json { print(piece, terminator: ""); fflush(stdout) }
            }
            if !json { print() }
            results.append([
                "input": item.text, "input_ids": item.ids, "output_ids": output,
                "output": tokenizer.decode(output, skipSpecialTokens: true),
                "embedding": memory.map(Double.init),
            ])
        }
        if json {
            print(try jsonLine(["results": results]))
        } else {
            print("--------------------")
            print(stats.summary)
        }
    }
}
