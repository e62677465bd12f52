import NeuralNet
import TensorCore

/// The sentence-level LLM: each sentence of a passage is encoded to one vector by the SVAE
/// encoder, OPT's learned position for the sentence index is added, OPT decoder layers run
/// causally over sentences, and each position gives a stop decision (`fc`, class 1 = another
/// sentence follows) and, through the SVAE decoder, the next sentence.
/// Parameter names: `svae.…`, `llm_pe.weight`, `llm_layers.N.…`, `fc.…` as in the original.
public final class SentenceLLM: Layer {
    public let svae: SentenceVAE
    public let llmPositions: OPTLearnedPositions
    public let llmLayers: [OPTDecoderLayer]
    public let fc: Linear
    public let llmConfig: OPTConfiguration

    public init(svae svaeConfig: SentenceVAEConfiguration, llm: OPTConfiguration, seed: UInt64 = 0) throws {
        guard svaeConfig.hiddenSize == llm.hiddenSize else {
            throw TensorError.invalidArgument(op: "SentenceLLM", reason: "the SVAE hidden size \(svaeConfig.hiddenSize) must equal the OPT hidden size \(llm.hiddenSize)")
        }
        var generator = RandomGenerator(seed: seed)
        svae = try SentenceVAE(config: svaeConfig, seed: seed &+ 1)
        llmConfig = llm
        llmPositions = OPTLearnedPositions(maxPositions: llm.maxPositionEmbeddings, dim: llm.hiddenSize, generator: &generator)
        llmLayers = try (0..<llm.layers).map { _ in
            try OPTDecoderLayer(dim: llm.hiddenSize, heads: llm.attentionHeads, ffnDim: llm.ffnDim,
                                layerNormBefore: llm.layerNormBefore, generator: &generator)
        }
        fc = Linear(llm.hiddenSize, 2, generator: &generator)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        var p = prefixed("svae", svae) + prefixed("llm_pe", llmPositions)
        for (i, layer) in llmLayers.enumerated() { p += prefixed("llm_layers.\(i)", layer) }
        return p + prefixed("fc", fc)
    }

    public struct Output {
        /// Per-sentence hidden states `[sentences, hidden]`: row i is the memory that decodes sentence i + 1.
        public let hidden: Tensor
        /// Stop logits `[sentences, 2]`.
        public let stopLogits: Tensor
    }

    /// Runs one passage whose sentences are the rows of `sentences` (all encoded in one batch).
    public func callAsFunction(_ sentences: TokenBatch, dropout: DropoutContext? = nil) throws -> Output {
        let count = sentences.batch
        let vectors = try svae.encoder(sentences, dropout: dropout)                    // [S, hidden]
        let positions = try llmPositions(mask: [Bool](repeating: true, count: count), batch: 1, length: count)
        var h = try vectors.reshaped([1, count, llmConfig.hiddenSize]) + positions
        for layer in llmLayers { h = try layer(h, dropout: dropout) }                 // causal over sentences
        let hidden = try h.reshaped([count, llmConfig.hiddenSize])
        return Output(hidden: hidden, stopLogits: try fc(hidden))
    }

    public struct Loss {
        public let stop: Tensor
        /// Mean cross-entropy of the stop head, and how many of its decisions are right.
        public let stopCrossEntropy: Tensor
        public let stopCorrect: Int
        /// The stop head's logits `[sentences, 2]` (for evaluation).
        public let stopLogits: Tensor
        public let decode: Tensor
        /// Mean cross-entropy of the decoded tokens (the original's `ppl_loss`; a value, no gradient).
        public let decodeCrossEntropy: Tensor
        public let decodedTokens: Int
    }

    /// The original's training loss for one passage: focal loss of the stop head (targets 1 for
    /// every sentence but the last) plus focal loss of decoding sentence i + 1 from position i.
    /// `continues`: the passage was cut and its text goes on, so the last target is 1 as well (the
    /// original teaches "stop" there, which makes the head stop at every sentence limit).
    public func loss(_ sentences: TokenBatch, continues: Bool = false, dropout: DropoutContext? = nil) throws -> Loss {
        let out = try self(sentences, dropout: dropout)
        let count = sentences.batch
        let stopTargets = (0..<count).map { $0 + 1 < count || continues ? 1 : 0 }
        let (stop, stopCEValue) = try out.stopLogits.focalLossAndCrossEntropy(targets: stopTargets)
        let stopCE = Tensor(scalar: stopCEValue)
        let stopScores = out.stopLogits.data
        let stopCorrect = (0..<count).filter { (stopScores[2 * $0 + 1] > stopScores[2 * $0] ? 1 : 0) == stopTargets[$0] }.count
        guard count > 1 else {
            let zero = Tensor(scalar: 0)
            return Loss(stop: stop, stopCrossEntropy: stopCE, stopCorrect: stopCorrect, stopLogits: out.stopLogits, decode: zero, decodeCrossEntropy: zero, decodedTokens: 0)
        }
        let next = try TokenBatch(ids: Array(sentences.ids[sentences.length...]), mask: Array(sentences.mask[sentences.length...]),
                                  batch: count - 1, length: sentences.length)
        let memory = try out.hidden.slice(axis: 0, 0..<(count - 1))
        let logits = try svae.decoder(next, memory: memory, dropout: dropout)
        let flat = try logits.reshaped([(count - 1) * sentences.length, svae.config.vocabularySize])
        let targets = SentenceVAE.targets(next, eosId: svae.config.eosId)
        let ignore = next.mask.map { !$0 }
        let (decode, decodeCE) = try flat.focalLossAndCrossEntropy(targets: targets, ignore: ignore)
        return Loss(stop: stop, stopCrossEntropy: stopCE, stopCorrect: stopCorrect, stopLogits: out.stopLogits, decode: decode,
                    decodeCrossEntropy: Tensor(scalar: decodeCE), decodedTokens: next.mask.filter { $0 }.count)
    }
}
