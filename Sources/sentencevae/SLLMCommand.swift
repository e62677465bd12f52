import ArgumentParser
import Foundation
import ModelIO
import NeuralNet
import SentenceModels
import TensorCore
import Tokenization

/// `sentencevae sllm`: the original's `demo_sllm.py` — the input is split into sentences and the
/// sentence-level LLM continues it sentence by sentence until its stop head says stop.
struct SLLMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sllm",
        abstract: "Continue a text sentence by sentence with a sentence-level LLM (SVAE + OPT).",
        discussion: """
            CONFIG is an original-style SLLM YAML (e.g. Configs/SLLM/SLLM-125m/sllm_125m_h1_all.yaml): \
            svae.ref_model_dir gives the tokenizer and sizes, llm.ref_model_dir the OPT shape (config.json); \
            every weight comes from CHECKPOINT (the original's mmengine .pth with svae.*, llm_pe, \
            llm_layers.*, fc; or without svae.* when the config freezes the SVAE and names its file in \
            svae.model_path). Without -c and --checkpoint, the default models' SLLM (see `sentencevae \
            demo --help`). The input is split with the original's rules (--split-mode original keeps \
            its quirk of dropping text after the last punctuation), each sentence truncated to max_sen_len \
            tokens with a warning; an input of max_sen_num sentences or more (the model's window) is \
            continued from its last ones, leaving room for --max-sentences of them (at most half the \
            window), with a warning. Greedy decoding (the default) stops when the \
            stop head's likelier class is "stop", as the original does; with --temperature above 0 the \
            stop decision is drawn from the stop head's two probabilities at that temperature, like the \
            tokens.
            """
    )

    @Option(name: [.customShort("c"), .customLong("config")], help: "The SLLM YAML config (default: the default models' SLLM).")
    var config: String?

    @Option(help: "The trained SentenceLLM checkpoint (.pth, .safetensors, .bin), with -c.")
    var checkpoint: String?

    @Option(help: "The text to continue.")
    var input: String

    @Option(name: .customLong("max-sentences"), help: "Most sentences to generate (default: max_sen_num minus the prompt's).")
    var maxSentences: Int?

    @Option(name: .customLong("split-mode"), help: "Sentence splitting: default (keeps trailing text, no cuts inside numbers) or original.")
    var splitMode: SentenceSplitter.Mode = .default

    @Flag(help: "Print one JSON object: {\"prompt_sentences\", \"sentences\": [{\"ids\", \"text\"}], \"stopped\"}.")
    var json = false

    @Option(name: .customLong("set"), help: "Override a config key: key=value (repeatable), e.g. --set ref_model_dir=PATH.")
    var overrides: [String] = []

    @OptionGroup var generation: GenerationOptions

    @OptionGroup var storage: WeightOptions

    func validate() throws {
        if let maxSentences, maxSentences < 0 { throw ValidationError("--max-sentences must be ≥ 0 (got \(maxSentences))") }
        try ModelChoice.validate(config: config, checkpoint: checkpoint)
    }

    func run() throws {
        generation.applyThreads()
        let (cfg, loaded) = try ModelChoice.sllm(config: config, checkpoint: checkpoint).sllm(overrides: overrides, storage: storage)
        let sllm = loaded.model, svaeConfig = sllm.svae.config
        let tokenizer = try ModelAssets.tokenizer(loaded.svaeDirectory)

        let built = try SLLMPrompt(input, tokenizer: tokenizer, config: cfg, mode: splitMode, toGenerate: maxSentences)
        let (sentences, prompt) = (built.sentences, built.ids)
        let budget = maxSentences ?? max(0, cfg.maxSentenceNum - prompt.count)

        if !json {
            print("Input: \(input)")
            print("Output:")
        }
        var stats = GenerationStats()
        var stream = TextStream(tokenizer: tokenizer)
        let generator = SentenceLLMGenerator(sllm: sllm, capacity: prompt.count + budget, weights: loaded.weights)
        let sampler = try Sampler(options: generation.sampling, vocabulary: svaeConfig.vocabularySize)
        let result = try generator.generate(
            prompt: prompt, maxSentences: budget, sampler: sampler, maxTokens: generation.maxLength,
            onToken: { id in
                stats.token()
                let piece = stream.append(id)
                if !json { print(piece, terminator: ""); fflush(stdout) }
            },
            onSentence: { _ in
                stream = TextStream(tokenizer: tokenizer)
                if !json { print() }
            })
        if json {
            print(try jsonLine([
                "prompt_sentences": sentences,
                "sentences": result.sentences.map { ["ids": $0, "text": tokenizer.decode($0, skipSpecialTokens: true)] },
                "stopped": result.stopped,
            ]))
        } else {
            print(result.stopped ? "(the stop head ended the text)" : "(stopped after \(result.sentences.count) sentences)")
            print(stats.summary)
        }
    }
}
