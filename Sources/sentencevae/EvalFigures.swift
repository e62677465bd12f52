import Foundation
import TensorCore
import SentenceModels
import Tokenization
import Training

/// Limits on the passages the comparable figure covers, beyond the model's own (`eval
/// --comparable-within`): with the same limits the OPT and the SLLM are scored on the same passages.
struct ComparableLimits {
    var sentences: Int?
    var sentenceTokens: Int?
    var passageTokens: Int?

    static let none = ComparableLimits()

    init(sentences: Int? = nil, sentenceTokens: Int? = nil, passageTokens: Int? = nil) {
        self.sentences = sentences
        self.sentenceTokens = sentenceTokens
        self.passageTokens = passageTokens
    }

    /// Parses `S,L,T` (sentences, tokens per sentence, tokens per passage); nil unless all three are positive.
    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, parts.allSatisfy({ ($0 ?? 0) > 0 }), !parts.contains(nil) else { return nil }
        self.init(sentences: parts[0], sentenceTokens: parts[1], passageTokens: parts[2])
    }

    /// Whether a passage is within the limits, given its sentences' token counts (each encoded as
    /// a sentence) and its token count as OPT reads it (`[</s>]` + sentence 1, then the rest).
    func admits(sentenceLengths: [Int], passageTokens: Int) -> Bool {
        if let limit = sentences, sentenceLengths.count > limit { return false }
        if let limit = sentenceTokens, sentenceLengths.contains(where: { $0 > limit }) { return false }
        if let limit = self.passageTokens, passageTokens > limit { return false }
        return true
    }
}

/// What `eval` passes to a kind's figures beyond the texts.
struct EvalFigureOptions {
    var comparable = ComparableLimits.none
    /// How free generation (`stop_before_cap`) picks tokens and stop decisions; greedy by default.
    var sampling = SamplingOptions.greedy
}

/// The figures `eval` adds to perplexity for each model kind.
enum EvalFigures {
    /// SVAE: greedy reconstruction of every eval sentence.
    static func reconstruction(_ model: SentenceVAE, texts: [String], collate: ([String]) throws -> TokenBatch,
                               batchSize: Int) throws -> [String: Any] {
        let batches = try stride(from: 0, to: texts.count, by: max(batchSize, 1)).map {
            try collate(Array(texts[$0..<min($0 + batchSize, texts.count)]))
        }
        let r = try Reconstruction.evaluate(model, batches: batches)
        func figures(_ c: ReconstructionCounts) -> [String: Any] {
            ["sentences": c.sentences, "exact_match": c.exactMatch, "token_accuracy": c.tokenAccuracy, "reconstructed_tokens": c.tokens]
        }
        let byLength = r.byLength.enumerated().filter { $0.element.sentences > 0 }.map { i, counts in
            figures(counts).merging(["target_tokens": ReconstructionResult.bucketName(i)]) { $1 }
        }
        return figures(r.total).merging(["by_length": byLength]) { $1 }
    }

    /// SLLM: stop accuracy (as `eval_sllm.py`) and the figure comparable with OPT's. A passage
    /// enters the comparable figure only when the SLLM sees all of it (no more than `max_sen_num`
    /// sentences, none longer than `max_sen_len` tokens); the others are counted as skipped. (The
    /// SLLM also pays for the trailing space its passages give the last sentence; OPT does not.)
    static func sllm(_ model: SentenceLLM, texts: [String], tokenizer: Tokenizer, collate: ([String]) throws -> PassageBatch,
                     splitter: SentenceSplitter, maxSentenceLength: Int, options: EvalFigureOptions = .init()) throws -> [String: Any] {
        var comparable = ComparableScore()
        var decisions = 0, correct = 0, skipped = 0
        var whole = splitter
        whole.maxSentences = nil
        var passages: [TokenBatch] = []
        for text in texts {
            let batch = try collate([text])
            guard let passage = batch.passages.first else { continue }
            passages.append(passage)
            let loss = try withNoGrad { try model.loss(passage, continues: batch.continues[0]) }
            decisions += passage.batch
            correct += loss.stopCorrect
            let sentences = whole.split(text)
            guard sentences.count > 1 else { continue }
            let lengths = sentences.map { tokenizer.encode($0).count }
            let continuation = tokenizer.encode(sentences.dropFirst().joined(), addSpecialTokens: false)
            guard sentences.count == passage.batch, lengths.allSatisfy({ $0 <= maxSentenceLength }),
                  options.comparable.admits(sentenceLengths: lengths, passageTokens: lengths[0] + continuation.count) else {
                skipped += 1
                continue
            }
            try comparable.addSLLM(loss, continuationTokens: continuation.count)
        }
        let generation = try stopsBeforeCap(model, passages: passages, cap: splitter.maxSentences ?? model.llmConfig.maxPositionEmbeddings,
                                            maxSentenceLength: maxSentenceLength, sampling: options.sampling)
        return ["stop_accuracy": decisions > 0 ? Double(correct) / Double(decisions) : Double.nan, "stop_decisions": decisions,
                "comparable_nats_per_token": comparable.natsPerToken, "comparable_ppl": comparable.ppl,
                "comparable_tokens": comparable.tokens, "comparable_passages": comparable.passages, "comparable_skipped": skipped,
                "stop_before_cap": generation.share, "stop_prompts": generation.prompts,
                "generated_sentences_mean": generation.meanSentences]
    }

    /// How often free generation ends by the stop head (the floor of issue 10): each of `passages`
    /// (rows as the SLLM sees them) with two or more sentences is cut in half; the first half is the prompt
    /// and the SLLM continues (greedily unless `sampling` says otherwise, one sampler for the
    /// whole run) until its stop head says stop or the text holds `cap` sentences (max_sen_num).
    static func stopsBeforeCap(_ model: SentenceLLM, passages: [TokenBatch], cap: Int, maxSentenceLength: Int,
                               sampling: SamplingOptions) throws -> (share: Double, prompts: Int, meanSentences: Double) {
        var prompts = 0, stopped = 0, generatedSentences = 0
        let sampler = try Sampler(options: sampling, vocabulary: model.svae.config.vocabularySize)
        let generator = SentenceLLMGenerator(sllm: model, capacity: cap)
        for passage in passages where passage.batch >= 2 {
            let prompt = (0..<passage.batch / 2).map { row in
                (0..<passage.length).compactMap { passage.mask[row * passage.length + $0] ? passage.ids[row * passage.length + $0] : nil }
            }
            let result = try generator.generate(prompt: prompt, maxSentences: cap - prompt.count, sampler: sampler,
                                                maxTokens: maxSentenceLength)
            prompts += 1
            if result.stopped { stopped += 1 }
            generatedSentences += result.sentences.count
        }
        return (prompts > 0 ? Double(stopped) / Double(prompts) : Double.nan, prompts,
                prompts > 0 ? Double(generatedSentences) / Double(prompts) : Double.nan)
    }

    /// OPT: the same comparable figure — its nats on sentences 2..n given sentence 1. A passage
    /// longer than `max_length` tokens is skipped (counted), not truncated: the figure covers whole
    /// passages, as the SLLM's does. Compare the two when `comparable_passages` agree.
    static func opt(_ model: OPTModel, texts: [String], tokenizer: Tokenizer, maxLength: Int, splitter: SentenceSplitter,
                    options: EvalFigureOptions = .init()) throws -> [String: Any] {
        var comparable = ComparableScore()
        var skipped = 0
        for text in texts {
            let sentences = splitter.split(text)
            guard sentences.count > 1 else { continue }
            let prefix = tokenizer.encode(sentences[0])
            let ids = prefix + tokenizer.encode(sentences.dropFirst().joined(), addSpecialTokens: false)
            guard ids.count <= maxLength,
                  options.comparable.admits(sentenceLengths: [prefix.count] + sentences.dropFirst().map { tokenizer.encode($0).count },
                                            passageTokens: ids.count) else {
                skipped += 1
                continue
            }
            try comparable.addOPT(model, ids: ids, prefixLength: prefix.count)
        }
        return ["comparable_nats_per_token": comparable.natsPerToken, "comparable_ppl": comparable.ppl,
                "comparable_tokens": comparable.tokens, "comparable_passages": comparable.passages, "comparable_skipped": skipped]
    }
}
