import NeuralNet
import TensorCore

/// The original's `SentenceDecoder`: token embedding (+ `project_in`) + sinusoidal positions →
/// post-norm Transformer decoder layers (causal self-attention with key padding, cross-attention
/// over a one-vector memory) → `linear` to vocabulary logits.
public final class SentenceDecoder: Layer {
    public let config: SentenceVAEConfiguration
    public let embedding: SentenceEmbedding
    public let layers: [TransformerDecoderLayer]
    public let linear: Linear

    public init(config: SentenceVAEConfiguration, generator: inout RandomGenerator) throws {
        self.config = config
        embedding = try SentenceEmbedding(config: config, generator: &generator)
        layers = try (0..<config.layers).map { _ in
            try TransformerDecoderLayer(dim: config.hiddenSize, heads: config.attentionHeads, ffnDim: config.ffnDim, generator: &generator)
        }
        linear = Linear(config.hiddenSize, config.vocabularySize, generator: &generator)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        var p = embedding.namedParameters
        for (i, layer) in layers.enumerated() { p += prefixed("decoder.layers.\(i)", layer) }
        return p + prefixed("linear", linear)
    }

    /// Logits `[batch, length, vocabulary]` for `tokens` given one sentence vector per row
    /// (`memory` `[batch, hidden]`).
    public func callAsFunction(_ tokens: TokenBatch, memory: Tensor, dropout: DropoutContext? = nil) throws -> Tensor {
        guard memory.shape == [tokens.batch, config.hiddenSize] else {
            throw TensorError.shapeMismatch(op: "SentenceDecoder memory (expected [batch, hidden])", lhs: memory.shape, rhs: [tokens.batch, config.hiddenSize])
        }
        var h = try embedding(tokens)
        let mem = try memory.reshaped([tokens.batch, 1, config.hiddenSize])
        let padding = tokens.paddingMask
        for layer in layers { h = try layer(h, memory: mem, keyPadding: padding, dropout: dropout) }
        return try linear(h)
    }
}
