import ArgumentParser
import Foundation
import ModelIO
import SentenceModels
import TensorCore
import Tokenization

/// `sentencevae demo`: the default model family at work, with nothing to pass — the SVAE folds a
/// few clauses into one vector each and unfolds them, the SLLM continues a passage sentence by
/// sentence, and the OPT baseline continues the same passage token by token, each streamed and
/// timed, so the paper's claim (more output tokens per second at the sentence level) shows on
/// the terminal.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the default models: an SVAE reconstruction, an SLLM continuation and the OPT baseline's, with tokens/s.",
        discussion: """
            The default models are a family trained from scratch by Tools/train-default-models and \
            shipped in the package's Models/: opt/ (the token-level OPT baseline, an HF directory \
            whose config.json and tokenizer the others share), svae.yaml + svae.safetensors, and \
            sllm.yaml + sllm.safetensors (the SLLM with its own SVAE, which trained with it; an SLLM \
            trained on a frozen SVAE may leave it out and name the family's SVAE file in sllm.yaml's \
            svae.model_path). They are found through --models, else $SENTENCEVAE_MODELS, else a \
            Models/ directory in the executable's directory or above it (so `swift run` and \
            .build/*/sentencevae find the package's). svae, sllm and llm use them too when given no \
            model. Files are read in the weight format they hold (--weights converts).

            Decoding is greedy unless --temperature says otherwise, so the output is the same on \
            every run; when plain greedy decoding repeats a sentence, the demo ends with a hint at \
            the options that avoid it. Each part's tokens/s counts the tokens it generated (the \
            SLLM's include one EOS per sentence, which its decoder computes like any token) over the \
            time from its start, prompt included; the OPT baseline generates as many tokens as the \
            SLLM did.
            """
    )

    @Option(help: "The model family directory (default: $SENTENCEVAE_MODELS, else Models/ above the executable).")
    var models: String?

    @Option(name: .customLong("max-sentences"), help: "Sentences the SLLM adds to the passage.")
    var maxSentences: Int = 6

    @Flag(help: "Print one JSON object: {\"models\", \"svae\", \"sllm\", \"llm\"} with the outputs and timings.")
    var json = false

    @OptionGroup var generation: GenerationOptions

    @OptionGroup var storage: WeightOptions

    /// Clauses for the SVAE, in the styles of the corpus (Austen, the World English Bible, Botchan) and one new.
    static let clauses = [
        "It is a truth universally acknowledged,",
        "In the beginning God created the heavens and the earth.",
        "I have been playing always a losing game since my childhood.",
        "The rain fell softly on the quiet village.",
    ]

    /// The passage both LLMs continue: the first sentence (seven clauses under the original
    /// splitter the SLLM was trained with) of a five-sentence paragraph of Pride and Prejudice, so
    /// the text goes on after it.
    static let passage = "Mr. Bennet was so odd a mixture of quick parts, sarcastic humour, reserve, and caprice, that the experience of three-and-twenty years had been insufficient to make his wife understand his character."

    func validate() throws {
        guard maxSentences >= 1 else { throw ValidationError("--max-sentences must be at least 1 (got \(maxSentences))") }
    }

    func run() throws {
        generation.applyThreads()
        let family = try ModelChoice.defaultFamily(explicit: models)
        let loadStart = GenerationStats()
        let svae: ModelFactory.SVAE, sllm: (model: ModelFactory.SLLM, config: SLLMConfig), opt: ModelFactory.OPT
        do {
            svae = try family.svae(storage: storage.weights)
            sllm = try family.sllm(storage: storage.weights)
            opt = try family.opt(storage: storage.weights)
        } catch { throw CLIError("\(error)") }
        let tokenizer = try ModelAssets.tokenizer(family.optDirectory)
        if !json {
            let format = storage.weights ?? DefaultModels.storedFormat(family.svaeCheckpoint)
            print("Default models: \(family.directory) (\(format.rawValue) weights, \(Threads.count) threads; loaded in "
                + String(format: "%.2f s)", loadStart.seconds))
        }
        let reconstruction = try reconstruct(svae, tokenizer: tokenizer)
        let continuation = try continueSentences(sllm.model, config: sllm.config, tokenizer: tokenizer)
        let budget = max(1, continuation["tokens"] as? Int ?? 1)
        let baseline = try continueTokens(opt, tokenizer: tokenizer, budget: budget)
        if json {
            print(try jsonLine(["models": family.directory, "svae": reconstruction, "sllm": continuation, "llm": baseline]))
            return
        }
        let fast = continuation["tokens_per_s"] as? Double ?? 0, slow = baseline["tokens_per_s"] as? Double ?? 0
        print()
        print(String(format: "SLLM %.1f tokens/s, OPT baseline %.1f tokens/s", fast, slow)
            + (fast > 0 && slow > 0 ? String(format: ": %.2f× the tokens per second at the sentence level.", fast / slow) : "."))
        let texts = (continuation["sentences"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
        if generation.temperature == 0, generation.repetitionPenalty == 1, generation.noRepeatNgramSize == 0,
           Set(texts).count < texts.count {
            print("Plain greedy decoding of models this small repeats itself; --repetition-penalty 1.3 or "
                  + "--temperature 0.7 shows more of what they learned.")
        }
    }

    /// Part 1: each clause encoded to one vector (all in one batch), then decoded back from it.
    func reconstruct(_ loaded: ModelFactory.SVAE, tokenizer: Tokenizer) throws -> [String: Any] {
        let config = loaded.model.config
        let inputs = Self.clauses.map { Array(tokenizer.encode($0).prefix(config.maxSequenceLength)) }
        if !json { print("\n1. SentenceVAE: each clause becomes one vector of \(config.hiddenSize) numbers, then is decoded back") }
        var stats = GenerationStats()
        var vectors = [Float](repeating: 0, count: inputs.count * config.hiddenSize)
        try SentenceEncoderStep(encoder: loaded.model.encoder, weights: loaded.weights).encode(inputs, into: &vectors)
        let decoder = SentenceDecoderGenerator(decoder: loaded.model.decoder, weights: loaded.weights)
        let sampler = try Sampler(options: generation.sampling, vocabulary: config.vocabularySize)
        var results: [[String: Any]] = [], exact = 0
        for (i, ids) in inputs.enumerated() {
            if !json { print("   \(Self.clauses[i])\n → ", terminator: ""); fflush(stdout) }
            var stream = TextStream(tokenizer: tokenizer)
            let memory = Array(vectors[(i * config.hiddenSize)..<((i + 1) * config.hiddenSize)])
            sampler.forgetHistory()   // each sentence is a text of its own for --repetition-penalty
            let output = try decoder.generate(memory: memory, sampler: sampler, maxTokens: generation.maxLength) { id in
                stats.token()
                if !json { print(stream.append(id), terminator: ""); fflush(stdout) }
            }
            // Exact: the clause's tokens (after the leading </s>) and then EOS.
            let same = output == Array(ids.dropFirst()) + [config.eosId]
            if same { exact += 1 }
            if !json { print(same ? "   ✓" : "") }
            results.append(["input": Self.clauses[i], "input_ids": ids, "output_ids": output,
                            "output": tokenizer.decode(output, skipSpecialTokens: true), "exact": same])
        }
        if !json { print("   \(exact) of \(inputs.count) exact · \(stats.summary)") }
        return ["results": results, "exact": exact, "tokens": stats.tokens, "seconds": stats.seconds, "tokens_per_s": stats.tokensPerSecond]
    }

    /// Part 2: the passage continued one sentence at a time until the stop head or --max-sentences.
    func continueSentences(_ loaded: ModelFactory.SLLM, config: SLLMConfig, tokenizer: Tokenizer) throws -> [String: Any] {
        let prompt = try SLLMPrompt(Self.passage, tokenizer: tokenizer, config: config, mode: .original, toGenerate: maxSentences)
        let budget = min(maxSentences, max(0, config.maxSentenceNum - prompt.ids.count))
        if !json { print("\n2. SentenceLLM: the passage continued one sentence at a time\n   \(Self.passage)") }
        var stats = GenerationStats()
        var stream = TextStream(tokenizer: tokenizer)
        let generator = SentenceLLMGenerator(sllm: loaded.model, capacity: prompt.ids.count + budget, weights: loaded.weights)
        let sampler = try Sampler(options: generation.sampling, vocabulary: loaded.model.svae.config.vocabularySize)
        var started = false
        let result = try generator.generate(
            prompt: prompt.ids, maxSentences: budget, sampler: sampler, maxTokens: generation.maxLength,
            onToken: { id in
                stats.token()
                guard !json else { return }
                if !started { print(" + ", terminator: ""); started = true }
                print(stream.append(id), terminator: "")
                fflush(stdout)
            },
            onSentence: { _ in
                stream = TextStream(tokenizer: tokenizer)
                started = false
                if !json { print() }
            })
        if !json {
            let end = result.stopped ? "the stop head ended the text" : "stopped after \(result.sentences.count) sentences"
            print("   (\(end)) · \(stats.summary)")
        }
        return ["prompt_sentences": prompt.sentences, "stopped": result.stopped,
                "sentences": result.sentences.map { ["ids": $0, "text": tokenizer.decode($0, skipSpecialTokens: true)] },
                "tokens": stats.tokens, "seconds": stats.seconds, "tokens_per_s": stats.tokensPerSecond]
    }

    /// Part 3: the same passage continued token by token, as many tokens as the SLLM generated.
    func continueTokens(_ loaded: ModelFactory.OPT, tokenizer: Tokenizer, budget: Int) throws -> [String: Any] {
        let ids = tokenizer.encode(Self.passage)
        let room = loaded.config.maxPositionEmbeddings - ids.count
        if !json { print("\n3. OPT baseline: the same passage continued token by token (\(budget) tokens)\n   \(Self.passage)\n + ", terminator: "") }
        var stats = GenerationStats()
        var stream = TextStream(tokenizer: tokenizer)
        let output = try OPTContinuation.generate(loaded, prompt: ids, budget: min(budget, max(room, 0)), sampling: generation.sampling) { id in
            stats.token()
            if !json { print(stream.append(id), terminator: ""); fflush(stdout) }
        }
        if !json { print("\n   \(stats.summary)") }
        return ["input_ids": ids, "output_ids": output, "text": tokenizer.decode(output, skipSpecialTokens: true),
                "tokens": stats.tokens, "seconds": stats.seconds, "tokens_per_s": stats.tokensPerSecond]
    }
}
