import ArgumentParser
import Foundation
import ModelIO
import NeuralNet
import SentenceModels
import TensorCore
import Tokenization

/// `sentencevae llm`: the token-level OPT baseline, token by token with a KV cache.
struct LLMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llm",
        abstract: "Generate with an OPT model token by token (the token-level baseline).",
        discussion: """
            DIR is a Hugging Face OPT directory (config.json; model.safetensors, pytorch_model.bin or a \
            sharded index; vocab.json + merges.txt or tokenizer.json), e.g. a facebook/opt-125m download. \
            --checkpoint takes the weights from a file instead (e.g. WORKDIR/latest.safetensors of \
            `sentencevae train opt`; DIR then only needs config.json and the tokenizer). Without \
            --model, the default models' OPT baseline (see `sentencevae demo --help`). \
            Generation stops at EOS (kept in output_ids) or after --max-new-tokens. A prompt too long to \
            leave room for --max-new-tokens (at most half of max_position_embeddings) is continued from \
            its last tokens, with a warning.
            """
    )

    @Option(help: "The HF OPT model directory (default: the default models' OPT baseline).")
    var model: String?

    @Option(help: "Weights to use instead of the directory's (.safetensors, .pth, .bin).")
    var checkpoint: String?

    @Option(help: "The prompt.")
    var input: String

    @Option(name: .customLong("max-new-tokens"), help: "Most tokens to generate.")
    var maxNewTokens: Int = 64

    @Flag(help: "Print one JSON object: {\"input_ids\", \"output_ids\", \"text\"}.")
    var json = false

    @OptionGroup var generation: GenerationOptions

    @OptionGroup var storage: WeightOptions

    func validate() throws {
        guard maxNewTokens >= 1 else { throw ValidationError("--max-new-tokens must be at least 1 (got \(maxNewTokens))") }
    }

    func run() throws {
        generation.applyThreads()
        let choice = try ModelChoice.opt(model: model, checkpoint: checkpoint)
        let loaded: ModelFactory.OPT
        do {
            loaded = try ModelFactory.opt(path: choice.configFile, weights: .checkpoint(choice.checkpoint), storage: storage.format(or: choice.storedFormat))
        } catch { throw CLIError("\(error)") }
        storage.report(loaded.weights)
        let hf = loaded.config
        let tokenizer = try ModelAssets.tokenizer(choice.configFile)

        guard !input.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CLIError("the prompt is empty: pass some text with --input")
        }
        var ids = tokenizer.encode(input)
        let window = hf.maxPositionEmbeddings
        // A prompt too long to leave room for --max-new-tokens (at most half the positions) keeps its
        // last tokens, the ones a continuation follows, after the tokenizer's prefix (OPT's </s>,
        // which the model always saw first).
        let room = min(maxNewTokens, window / 2)
        if ids.count + room > window {
            let keep = window - room
            warn("warning: the prompt has \(ids.count) tokens and the model has \(window) positions "
                 + "(max_position_embeddings); continuing from its last \(keep), to leave room for \(room) new ones")
            let prefix = ids.starts(with: tokenizer.prefixIds) ? tokenizer.prefixIds : []
            ids = prefix + ids.suffix(keep - prefix.count)
        }
        let limit = min(window, generation.maxLength.map { ids.count + $0 } ?? Int.max)
        let budget = min(maxNewTokens, limit - ids.count)
        if budget < maxNewTokens, limit == window {
            warn("warning: \(budget) new tokens fit after the \(ids.count)-token prompt in \(window) positions (asked for \(maxNewTokens))")
        }

        var stats = GenerationStats()
        var stream = TextStream(tokenizer: tokenizer)
        if !json { print(input, terminator: ""); fflush(stdout) }
        let output = try OPTContinuation.generate(loaded, prompt: ids, budget: budget, sampling: generation.sampling) { next in
            stats.token()
            if !json { print(stream.append(next), terminator: ""); fflush(stdout) }
        }
        if json {
            print(try jsonLine(["input_ids": ids, "output_ids": output, "text": tokenizer.decode(output, skipSpecialTokens: true)]))
        } else {
            print()
            print(stats.summary)
        }
    }
}
