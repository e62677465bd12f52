import ArgumentParser
import Foundation
import ModelIO
import SentenceModels
import TensorCore
import Training

/// `sentencevae eval opt|svae|sllm`: the original's `tools/eval/eval_*.py`, plus the figures
/// that compare models honestly.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a trained model on the eval split of a corpus: perplexity and the kind's own figures.",
        discussion: """
            The eval split is what `train` held out: with a local corpus, the first --eval-documents \
            documents in the seeded order (same seed, same split); with a data server, the first \
            --eval-items items. The config needs only the model's keys.

            Figures (--json prints them as one object):
              ppl             exp of the mean cross-entropy over every scored token (token-weighted): \
            SVAE: each sentence's tokens after </s> plus EOS; SLLM: the decoded tokens of sentences \
            2..n plus EOS; OPT: every real next token. Compare models by this.
              ppl_original    the original's figure (data_eval.py): exp of the mean of per-batch means.
              svae            exact_match and token_accuracy of greedy reconstruction from the vector, \
            and the same by target length (by_length: 1-4, 5-8, 9-16, 17+ tokens, EOS included).
              sllm            stop_accuracy (every stop decision; a passage cut at max_sen_num is \
            taught "continue" at its last sentence), comparable_ppl: its nats on sentences 2..n (decoded \
            tokens + EOS + the stop head's "continue") per OPT token of that text, and stop_before_cap: \
            the share of passages (2+ sentences) whose greedy continuation from their first half the \
            stop head ends before the text holds max_sen_num sentences.
              opt             comparable_ppl: its nats on sentences 2..n given sentence 1, per token; \
            the number to put next to the SLLM's comparable_ppl. Both cover whole passages only (one \
            the model cannot see entirely is skipped and counted in comparable_skipped): compare \
            them when comparable_passages agree. --comparable-within S,L,T gives both the same \
            limits (at most S sentences of at most L tokens, T tokens in all), e.g. the SLLM's \
            max_sen_num,max_sen_len and the OPT's max_length.
            """
    )

    @Argument(help: "opt | svae | sllm")
    var kind: ModelKind

    @Option(name: [.customShort("c"), .customLong("config")], help: "The YAML config (model keys are enough).")
    var config: String

    @Option(help: "The trained model (.safetensors, .pth, .bin; for opt also an HF directory). Default for opt: the config's ref_model_dir.")
    var checkpoint: String?

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Evaluate at most this many eval items (default: all).")
    var samples: Int?

    @Option(help: "Batch size for perplexity (default: the config's batch_size, else 32).")
    var batchSize: Int?

    @Option(name: .customLong("set"), help: "Override a config key: key=value (repeatable).")
    var overrides: [String] = []

    @Option(help: "Kernel threads, the calling thread included (default: all cores).")
    var threads: Int?

    @Option(help: ArgumentHelp("Score comparable_ppl only on passages of at most S sentences, each at most L tokens, T tokens in all.",
                               valueName: "S,L,T"))
    var comparableWithin: String?

    @Option(help: "SLLM free generation (stop_before_cap): sampling temperature for tokens and stop decisions; 0 = greedy.")
    var temperature: Float = 0

    @Option(help: "SLLM free generation: seed of the sampler.")
    var seed: UInt64 = 0

    @Option(name: .customLong("repetition-penalty"), help: "SLLM free generation: transformers' repetition_penalty over the prompt's and generated tokens (1 = off).")
    var repetitionPenalty: Float = 1

    @Option(name: .customLong("no-repeat-ngram-size"), help: "SLLM free generation: transformers' no_repeat_ngram_size over the prompt's and generated tokens (0 = off).")
    var noRepeatNgramSize: Int = 0

    private var freeGeneration: SamplingOptions {
        SamplingOptions(temperature: temperature, seed: seed, repetitionPenalty: repetitionPenalty, noRepeatNgramSize: noRepeatNgramSize)
    }

    @Flag(help: "Print one JSON object with every figure.")
    var json = false

    func validate() throws {
        if let samples, samples < 1 { throw ValidationError("--samples must be at least 1") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        try checkThreads(threads)
        if kind != .opt, checkpoint == nil { throw ValidationError("--checkpoint is required for \(kind.rawValue)") }
        do { try freeGeneration.validate() } catch { throw ValidationError("\(error)") }
        if let comparableWithin, ComparableLimits(argument: comparableWithin) == nil {
            throw ValidationError("--comparable-within takes three positive whole numbers S,L,T (sentences, tokens per sentence, tokens per passage), e.g. 16,32,256; got '\(comparableWithin)'")
        }
    }

    func run() throws {
        if let threads { Threads.count = threads }
        let value: ConfigValue
        do { value = try ConfigOverrides.apply(overrides, to: YAMLConfig.load(path: config)) } catch let e as CLIError { throw e } catch {
            throw CLIError("\(error)")
        }
        var weights: ModelWeights
        if let checkpoint {
            weights = .checkpoint(checkpoint)
        } else {
            let cfg: OPTTrainConfig
            do { cfg = try OPTTrainConfig(value, file: config) } catch { throw CLIError("\(error)") }
            weights = .checkpoint(try TrainingSetup.resolvePath(cfg.refModelDir, configFile: config))
        }
        let setup = try TrainingSetup.build(kind: kind, config: value, configFile: config, data: dataOptions,
                                            weights: weights, requireTraining: false)
        let texts = Array(setup.evalTexts.prefix(samples ?? Int.max))
        guard !texts.isEmpty else {
            throw CLIError("the eval split is empty: raise --eval-documents (local corpus) or --eval-items (data server)")
        }
        let started = Date()
        let result: PerplexityResult
        var figures: [String: Any]
        do {
            result = try setup.perplexity(texts, batchSize ?? setup.training.batchSize)
            let options = EvalFigureOptions(comparable: comparableWithin.flatMap(ComparableLimits.init(argument:)) ?? .none,
                                            sampling: freeGeneration)
            figures = try setup.extras(texts, options)
        } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
        figures["kind"] = kind.rawValue
        figures["items"] = texts.count
        figures["ppl"] = result.ppl
        figures["ppl_original"] = result.originalPPL
        figures["cross_entropy"] = result.crossEntropy.last ?? Double.nan
        figures["tokens"] = result.counts.last ?? 0
        figures["seconds"] = Date().timeIntervalSince(started)
        if kind == .sllm { figures["stop_cross_entropy"] = result.crossEntropy.first ?? Double.nan }
        if json {
            print(try jsonLine(figures))
        } else {
            func text(_ v: Any) -> String { v is Double ? String(format: "%.6g", v as! Double) : "\(v)" }
            for key in figures.keys.sorted() {
                if let rows = figures[key] as? [[String: Any]] {
                    // by_length: one line per bucket.
                    print(key)
                    for row in rows { print("  " + row.keys.sorted().map { "\($0) \(text(row[$0]!))" }.joined(separator: ", ")) }
                } else {
                    print(key.padding(toLength: 28, withPad: " ", startingAt: 0), text(figures[key]!))
                }
            }
        }
    }
}
