import NeuralNet
import TensorCore

/// The original's `SentenceEncoder`: token embedding (+ `project_in`) + sinusoidal positions →
/// post-norm Transformer encoder layers with a key-padding mask → padded positions zeroed → pooled
/// (plain sum, or learnable add `Σ h·(w·h + b)`) → LayerNorm: one vector per sentence.
public final class SentenceEncoder: Layer {
    public let config: SentenceVAEConfiguration
    public let embedding: SentenceEmbedding
    public let layers: [TransformerEncoderLayer]
    public let la: Linear?
    public let lnorm: LayerNorm

    public init(config: SentenceVAEConfiguration, generator: inout RandomGenerator) throws {
        self.config = config
        embedding = try SentenceEmbedding(config: config, generator: &generator)
        layers = try (0..<config.layers).map { _ in
            try TransformerEncoderLayer(dim: config.hiddenSize, heads: config.attentionHeads, ffnDim: config.ffnDim, generator: &generator)
        }
        la = config.learnableAdd ? Linear(config.hiddenSize, 1, generator: &generator) : nil
        lnorm = LayerNorm(config.hiddenSize)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        var p = embedding.namedParameters
        for (i, layer) in layers.enumerated() { p += prefixed("encoder.layers.\(i)", layer) }
        if let la { p += prefixed("la", la) }
        return p + prefixed("lnorm", lnorm)
    }

    /// One vector per sentence: `[batch, hidden]`.
    public func callAsFunction(_ tokens: TokenBatch, dropout: DropoutContext? = nil) throws -> Tensor {
        var h = try embedding(tokens)
        let padding = tokens.paddingMask
        for layer in layers { h = try layer(h, keyPadding: padding, dropout: dropout) }
        h = try h * tokens.keepTensor
        if let la { h = try h * la(h) }
        return try lnorm(h.sum(axis: 1))
    }
}
