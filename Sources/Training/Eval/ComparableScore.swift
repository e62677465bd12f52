import Foundation
import SentenceModels
import TensorCore

/// The honest comparison of the SLLM with OPT (DESIGN.md §2.6): the nats each model spends on the
/// same text — sentences 2..n of each passage, given the passage before them — divided by the
/// number of OPT tokens of that text, so both give a per-token figure over the same tokens.
///
/// - OPT is scored on `tokens(s₁) + tokens(s₂…sₙ)` (the continuation encoded without `</s>`), on
///   the continuation's tokens only.
/// - The SLLM pays for each sentence 2..n its decoded tokens including EOS, plus the stop head's
///   "another sentence follows" at positions 1..n−1 (the final stop decision is not counted: OPT
///   is not asked to end the text either).
public struct ComparableScore: Sendable {
    public var nats = 0.0
    /// OPT tokens of the continuations (the shared denominator).
    public var tokens = 0
    public var passages = 0

    public init() {}

    public var natsPerToken: Double { tokens > 0 ? nats / Double(tokens) : .nan }
    public var ppl: Double { exp(natsPerToken) }

    /// SLLM: `loss` is the model's loss on one passage (evaluation mode); `continuationTokens` is
    /// the OPT token count of its sentences 2..n.
    public mutating func addSLLM(_ loss: SentenceLLM.Loss, continuationTokens: Int) throws {
        let count = loss.stopLogits.shape[0]
        guard count > 1, continuationTokens > 0 else { return }
        // Stop head: −log p(continue) at positions 0..n−2.
        let logits = loss.stopLogits.data
        for i in 0..<(count - 1) {
            let (a, b) = (Double(logits[2 * i]), Double(logits[2 * i + 1]))
            let m = max(a, b)
            nats += m + log(exp(a - m) + exp(b - m)) - b
        }
        nats += Double(try loss.decodeCrossEntropy.item()) * Double(loss.decodedTokens)
        tokens += continuationTokens
        passages += 1
    }

    /// OPT: `ids` = prefix then continuation; the continuation starts at `prefixLength`.
    public mutating func addOPT(_ model: OPTModel, ids: [Int], prefixLength: Int) throws {
        guard prefixLength >= 1, ids.count > prefixLength else { return }
        let batch = try TokenBatch(sequences: [ids], padId: model.config.padId)
        let logits = try withNoGrad { try model(batch) }
        let vocab = model.config.vocabularySize
        var targets = [Int](repeating: 0, count: ids.count), ignore = [Bool](repeating: true, count: ids.count)
        for t in (prefixLength - 1)..<(ids.count - 1) { targets[t] = ids[t + 1]; ignore[t] = false }
        let ce = try withNoGrad { try logits.reshaped([ids.count, vocab]).crossEntropy(targets: targets, ignore: ignore) }
        let n = ids.count - prefixLength
        nats += Double(try ce.item()) * Double(n)
        tokens += n
        passages += 1
    }
}
