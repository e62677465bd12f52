import NeuralNet
import TensorCore

/// Encoder + decoder trained to reconstruct each sentence from its one vector (deterministic:
/// no KL term, no sampling). Parameter names: `encoder.…`, `decoder.…` as in the original.
public final class SentenceVAE: Layer {
    public let config: SentenceVAEConfiguration
    public let encoder: SentenceEncoder
    public let decoder: SentenceDecoder

    public init(config: SentenceVAEConfiguration, seed: UInt64 = 0) throws {
        var generator = RandomGenerator(seed: seed)
        self.config = config
        encoder = try SentenceEncoder(config: config, generator: &generator)
        decoder = try SentenceDecoder(config: config, generator: &generator)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed("encoder", encoder) + prefixed("decoder", decoder)
    }

    /// Reconstruction targets: each row shifted left, with EOS written after its last real token.
    public static func targets(_ tokens: TokenBatch, eosId: Int) -> [Int] {
        var targets = [Int](repeating: 0, count: tokens.ids.count)
        for (b, length) in tokens.lengths.enumerated() {
            for t in 0..<tokens.length {
                let i = b * tokens.length + t
                targets[i] = t + 1 < length ? tokens.ids[i + 1] : (t + 1 == length ? eosId : 0)
            }
        }
        return targets
    }

    public struct Loss {
        /// Focal loss (γ = 2) over real tokens: what training minimises.
        public let focal: Tensor
        /// Mean cross-entropy over the same tokens (a value, no gradient): exp of it is the reported PPL.
        public let crossEntropy: Tensor
        public let tokens: Int
    }

    /// The training objective of the original `SentenceVAE.forward(mode='loss')`.
    public func loss(_ tokens: TokenBatch, dropout: DropoutContext? = nil) throws -> Loss {
        let vectors = try encoder(tokens, dropout: dropout)
        let logits = try decoder(tokens, memory: vectors, dropout: dropout)
        let flat = try logits.reshaped([tokens.batch * tokens.length, config.vocabularySize])
        let targets = Self.targets(tokens, eosId: config.eosId)
        let ignore = tokens.mask.map { !$0 }
        let (focal, crossEntropy) = try flat.focalLossAndCrossEntropy(targets: targets, ignore: ignore)
        return Loss(focal: focal, crossEntropy: Tensor(scalar: crossEntropy), tokens: tokens.mask.filter { $0 }.count)
    }
}
