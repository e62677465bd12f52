import NeuralNet
import TensorCore

/// The original's `SentenceDecoder`: token embedding (+ `project_in`) + sinusoidal positions →
/// post-norm Transformer decoder layers (causal self-attention with key padding, cross-attention
/// over a one-vector memory) → `linear` to vocabulary logits.
public final class SentenceDecoder: Layer {
    public let config: SentenceVAEConfiguration
    public let embedToken: Embedding
    public let projectIn: Linear?
    public let layers: [TransformerDecoderLayer]
    public let linear: Linear
    let positions: Tensor

    public init(config: SentenceVAEConfiguration, generator: inout RandomGenerator) throws {
        self.config = config
        embedToken = Embedding(config.vocabularySize, config.wordEmbedProjectionDim, paddingIndex: config.padId, generator: &generator)
        projectIn = config.wordEmbedProjectionDim != config.hiddenSize
            ? Linear(config.wordEmbedProjectionDim, config.hiddenSize, bias: false, generator: &generator) : nil
        layers = try (0..<config.layers).map { _ in
            try TransformerDecoderLayer(dim: config.hiddenSize, heads: config.attentionHeads, ffnDim: config.ffnDim, generator: &generator)
        }
        linear = Linear(config.hiddenSize, config.vocabularySize, generator: &generator)
        positions = try SinusoidalPositions.table(length: config.maxSequenceLength, dim: config.hiddenSize)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        var p = prefixed("embed_token", embedToken)
        if let projectIn { p += prefixed("project_in", projectIn) }
        for (i, layer) in layers.enumerated() { p += prefixed("decoder.layers.\(i)", layer) }
        return p + prefixed("linear", linear)
    }

    /// Logits `[batch, length, vocabulary]` for `tokens` given one sentence vector per row
    /// (`memory` `[batch, hidden]`).
    public func callAsFunction(_ tokens: TokenBatch, memory: Tensor, dropout: DropoutContext? = nil) throws -> Tensor {
        guard memory.shape == [tokens.batch, config.hiddenSize] else {
            throw TensorError.shapeMismatch(op: "SentenceDecoder memory (expected [batch, hidden])", lhs: memory.shape, rhs: [tokens.batch, config.hiddenSize])
        }
        var h = try SentenceEncoder.embed(tokens, embedding: embedToken, projectIn: projectIn, positions: positions, maxLength: config.maxSequenceLength)
        let mem = try memory.reshaped([tokens.batch, 1, config.hiddenSize])
        let padding = tokens.paddingMask
        for layer in layers { h = try layer(h, memory: mem, keyPadding: padding, dropout: dropout) }
        return try linear(h)
    }
}
