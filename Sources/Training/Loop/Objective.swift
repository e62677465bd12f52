import NeuralNet
import SentenceModels
import TensorCore

/// One loss term of a micro-batch: a mean over `count` elements (tokens, or sentences for the
/// SLLM's stop head), and the mean cross-entropy over the same elements for perplexity.
public struct LossTerm {
    public let mean: Tensor
    public let crossEntropy: Tensor
    public let count: Int
}

/// What a model kind trains on and how its loss is made. Samples are texts (a sentence or a
/// passage); a micro-batch is the collated form of some of them.
///
/// Every term is a mean over the real elements of the GLOBAL batch: the trainer weights each
/// micro-batch's mean by its share of the elements (`counts`), so accumulation equals one big batch.
public protocol Objective: AnyObject {
    associatedtype Micro
    /// The model whose parameters train.
    var layer: Layer { get }
    /// Names of the terms, in order (`loss` is their sum).
    var termNames: [String] { get }
    func collate(_ texts: [String]) throws -> Micro
    /// Elements per term in `micro`, known before any forward pass.
    func counts(_ micro: Micro) -> [Int]
    /// The terms, with dropout when `sampleSeeds` (one per sample of `micro`) is given.
    func terms(_ micro: Micro, sampleSeeds: [UInt64]?) throws -> [LossTerm]
}

/// SentenceVAE reconstruction: focal loss over the real tokens (targets shifted left, EOS after
/// the last), as the original's `SentenceVAE.forward(mode='loss')`.
public final class SVAEObjective: Objective {
    public let model: SentenceVAE
    let collation: (([String]) throws -> TokenBatch)
    public var layer: Layer { model }
    public let termNames = ["loss"]

    public init(model: SentenceVAE, collate: @escaping ([String]) throws -> TokenBatch) {
        self.model = model
        collation = collate
    }

    public func collate(_ texts: [String]) throws -> TokenBatch { try collation(texts) }

    public func counts(_ micro: TokenBatch) -> [Int] { [micro.mask.reduce(0) { $0 + ($1 ? 1 : 0) }] }

    public func terms(_ micro: TokenBatch, sampleSeeds: [UInt64]?) throws -> [LossTerm] {
        let dropout = sampleSeeds.map { DropoutContext(probability: model.config.dropout, sampleSeeds: $0) }
        let loss = try model.loss(micro, dropout: dropout)
        return [LossTerm(mean: loss.focal, crossEntropy: loss.crossEntropy, count: loss.tokens)]
    }
}

/// Token-level OPT: mean cross-entropy of every real next token (HF `labels` with padding −100).
public final class OPTObjective: Objective {
    public let model: OPTModel
    let collation: (([String]) throws -> TokenBatch)
    public var layer: Layer { model }
    public let termNames = ["loss"]

    public init(model: OPTModel, collate: @escaping ([String]) throws -> TokenBatch) {
        self.model = model
        collation = collate
    }

    public func collate(_ texts: [String]) throws -> TokenBatch { try collation(texts) }

    /// Position t predicts token t + 1 when that token is real.
    static func targets(_ batch: TokenBatch) -> (targets: [Int], ignore: [Bool]) {
        var targets = [Int](repeating: 0, count: batch.ids.count), ignore = [Bool](repeating: true, count: batch.ids.count)
        for b in 0..<batch.batch {
            for t in 0..<(batch.length - 1) where batch.mask[b * batch.length + t + 1] {
                targets[b * batch.length + t] = batch.ids[b * batch.length + t + 1]
                ignore[b * batch.length + t] = false
            }
        }
        return (targets, ignore)
    }

    public func counts(_ micro: TokenBatch) -> [Int] { [Self.targets(micro).ignore.reduce(0) { $0 + ($1 ? 0 : 1) }] }

    public func terms(_ micro: TokenBatch, sampleSeeds: [UInt64]?) throws -> [LossTerm] {
        let dropout = sampleSeeds.map { DropoutContext(probability: model.config.dropout, sampleSeeds: $0) }
        let logits = try model(micro, dropout: dropout)
        let flat = try logits.reshaped([micro.batch * micro.length, model.config.vocabularySize])
        let (targets, ignore) = Self.targets(micro)
        let ce = try flat.crossEntropy(targets: targets, ignore: ignore)
        return [LossTerm(mean: ce, crossEntropy: ce, count: ignore.reduce(0) { $0 + ($1 ? 0 : 1) })]
    }
}

/// The sentence-level LLM: stop-head focal loss over every sentence position plus focal loss of
/// decoding each next sentence from the LLM's hidden state, each a mean over the global batch's
/// sentences and decoded tokens. Unlike the original, the stop term is never dropped when small,
/// and the decoder masks each sentence with its own mask (the original uses the previous one's).
/// A passage in which the splitter finds no sentence is left out (`PassageBatch.skipped`).
/// A passage cut at the sentence limit is taught "continue" at its last row (`PassageBatch.continues`).
public final class SLLMObjective: Objective {
    public let model: SentenceLLM
    let collation: (([String]) throws -> PassageBatch)
    public var layer: Layer { model }
    public let termNames = ["stop_loss", "decode_loss"]

    public init(model: SentenceLLM, collate: @escaping ([String]) throws -> PassageBatch) {
        self.model = model
        collation = collate
    }

    public func collate(_ texts: [String]) throws -> PassageBatch { try collation(texts) }

    public func counts(_ micro: PassageBatch) -> [Int] {
        var sentences = 0, tokens = 0
        for passage in micro.passages {
            sentences += passage.batch
            tokens += passage.mask[(passage.length)...].reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        return [sentences, tokens]
    }

    public func terms(_ micro: PassageBatch, sampleSeeds: [UInt64]?) throws -> [LossTerm] {
        let counts = counts(micro)
        let (sentences, tokens) = (counts[0], counts[1])
        // One seed per passage that was kept.
        let skipped = Set(micro.skipped)
        let seeds = sampleSeeds.map { all in all.indices.filter { !skipped.contains($0) }.map { all[$0] } }
        var stop: Tensor?, decode: Tensor?, stopCE: Tensor?, decodeCE: Tensor?
        func accumulate(_ acc: inout Tensor?, _ x: Tensor) throws { acc = try acc.map { try $0 + x } ?? x }
        for (i, passage) in micro.passages.enumerated() {
            let dropout = seeds.map { DropoutContext(probability: model.llmConfig.dropout, seed: $0[i]) }
            let loss = try model.loss(passage, continues: micro.continues[i], dropout: dropout)
            // Passage means → shares of the batch means.
            let stopShare = Float(passage.batch) / Float(Swift.max(sentences, 1))
            try accumulate(&stop, loss.stop * stopShare)
            try accumulate(&stopCE, loss.stopCrossEntropy * stopShare)
            let decodeShare = Float(loss.decodedTokens) / Float(Swift.max(tokens, 1))
            try accumulate(&decode, loss.decode * decodeShare)
            try accumulate(&decodeCE, loss.decodeCrossEntropy * decodeShare)
        }
        let zero = Tensor(scalar: 0)
        return [LossTerm(mean: stop ?? zero, crossEntropy: stopCE ?? zero, count: sentences),
                LossTerm(mean: decode ?? zero, crossEntropy: decodeCE ?? zero, count: tokens)]
    }
}
