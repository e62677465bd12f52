import Foundation
import TensorCore
import SentenceModels
import Tokenization
import Training

/// The figures `eval` adds to perplexity for each model kind.
enum EvalFigures {
    /// SVAE: greedy reconstruction of every eval sentence.
    static func reconstruction(_ model: SentenceVAE, texts: [String], collate: ([String]) throws -> TokenBatch,
                               batchSize: Int) throws -> [String: Any] {
        let batches = try stride(from: 0, to: texts.count, by: max(batchSize, 1)).map {
            try collate(Array(texts[$0..<min($0 + batchSize, texts.count)]))
        }
        let r = try Reconstruction.evaluate(model, batches: batches)
        return ["sentences": r.sentences, "exact_match": r.exactMatch, "token_accuracy": r.tokenAccuracy,
                "reconstructed_tokens": r.tokens]
    }

    /// SLLM: stop accuracy (as `eval_sllm.py`) and the figure comparable with OPT's. A passage
    /// enters the comparable figure only when the SLLM sees all of it (no more than `max_sen_num`
    /// sentences, none longer than `max_sen_len` tokens); the others are counted as skipped.
    static func sllm(_ model: SentenceLLM, texts: [String], tokenizer: Tokenizer, collate: ([String]) throws -> PassageBatch,
                     splitter: SentenceSplitter, maxSentenceLength: Int) throws -> [String: Any] {
        var comparable = ComparableScore()
        var decisions = 0, correct = 0, skipped = 0
        var whole = splitter
        whole.maxSentences = nil
        for text in texts {
            guard let passage = try collate([text]).passages.first else { continue }
            let loss = try withNoGrad { try model.loss(passage) }
            decisions += passage.batch
            correct += loss.stopCorrect
            let sentences = whole.split(text)
            guard sentences.count > 1 else { continue }
            guard sentences.count == passage.batch, sentences.allSatisfy({ tokenizer.encode($0).count <= maxSentenceLength }) else {
                skipped += 1
                continue
            }
            let continuation = tokenizer.encode(sentences.dropFirst().joined(), addSpecialTokens: false)
            try comparable.addSLLM(loss, continuationTokens: continuation.count)
        }
        return ["stop_accuracy": decisions > 0 ? Double(correct) / Double(decisions) : Double.nan, "stop_decisions": decisions,
                "comparable_nats_per_token": comparable.natsPerToken, "comparable_ppl": comparable.ppl,
                "comparable_tokens": comparable.tokens, "comparable_passages": comparable.passages, "comparable_skipped": skipped]
    }

    /// OPT: the same comparable figure — its nats on sentences 2..n given sentence 1. A passage
    /// longer than `max_length` tokens is skipped (counted), not truncated: the figure covers whole
    /// passages, as the SLLM's does. Compare the two when `comparable_passages` agree.
    static func opt(_ model: OPTModel, texts: [String], tokenizer: Tokenizer, maxLength: Int, splitter: SentenceSplitter) throws -> [String: Any] {
        var comparable = ComparableScore()
        var skipped = 0
        for text in texts {
            let sentences = splitter.split(text)
            guard sentences.count > 1 else { continue }
            let prefix = tokenizer.encode(sentences[0])
            let ids = prefix + tokenizer.encode(sentences.dropFirst().joined(), addSpecialTokens: false)
            guard ids.count <= maxLength else {
                skipped += 1
                continue
            }
            try comparable.addOPT(model, ids: ids, prefixLength: prefix.count)
        }
        return ["comparable_nats_per_token": comparable.natsPerToken, "comparable_ppl": comparable.ppl,
                "comparable_tokens": comparable.tokens, "comparable_passages": comparable.passages, "comparable_skipped": skipped]
    }
}
