import NeuralNet
import TensorCore

/// The original's `SentenceEncoder`: token embedding (+ `project_in`) + sinusoidal positions →
/// post-norm Transformer encoder layers with a key-padding mask → padded positions zeroed → pooled
/// (plain sum, or learnable add `Σ h·(w·h + b)`) → LayerNorm: one vector per sentence.
public final class SentenceEncoder: Layer {
    public let config: SentenceVAEConfiguration
    public let embedToken: Embedding
    public let projectIn: Linear?
    public let layers: [TransformerEncoderLayer]
    public let la: Linear?
    public let lnorm: LayerNorm
    let positions: Tensor

    public init(config: SentenceVAEConfiguration, generator: inout RandomGenerator) throws {
        self.config = config
        embedToken = Embedding(config.vocabularySize, config.wordEmbedProjectionDim, paddingIndex: config.padId, generator: &generator)
        projectIn = config.wordEmbedProjectionDim != config.hiddenSize
            ? Linear(config.wordEmbedProjectionDim, config.hiddenSize, bias: false, generator: &generator) : nil
        layers = try (0..<config.layers).map { _ in
            try TransformerEncoderLayer(dim: config.hiddenSize, heads: config.attentionHeads, ffnDim: config.ffnDim, generator: &generator)
        }
        la = config.learnableAdd ? Linear(config.hiddenSize, 1, generator: &generator) : nil
        lnorm = LayerNorm(config.hiddenSize)
        positions = try SinusoidalPositions.table(length: config.maxSequenceLength, dim: config.hiddenSize)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        var p = prefixed("embed_token", embedToken)
        if let projectIn { p += prefixed("project_in", projectIn) }
        for (i, layer) in layers.enumerated() { p += prefixed("encoder.layers.\(i)", layer) }
        if let la { p += prefixed("la", la) }
        return p + prefixed("lnorm", lnorm)
    }

    /// Token embeddings plus positions, `[batch, length, hidden]` (shared with the decoder).
    static func embed(_ tokens: TokenBatch, embedding: Embedding, projectIn: Linear?, positions: Tensor, maxLength: Int) throws -> Tensor {
        guard tokens.length <= maxLength else {
            throw TensorError.invalidArgument(op: "sentence model", reason: "sequence of \(tokens.length) tokens exceeds max_seq_len \(maxLength); truncate the input")
        }
        var x = try embedding(tokens.ids, shape: [tokens.batch, tokens.length])
        if let projectIn { x = try projectIn(x) }
        return try x + positions.slice(axis: 0, 0..<tokens.length)
    }

    /// One vector per sentence: `[batch, hidden]`.
    public func callAsFunction(_ tokens: TokenBatch, dropout: DropoutContext? = nil) throws -> Tensor {
        var h = try Self.embed(tokens, embedding: embedToken, projectIn: projectIn, positions: positions, maxLength: config.maxSequenceLength)
        let padding = tokens.paddingMask
        for layer in layers { h = try layer(h, keyPadding: padding, dropout: dropout) }
        h = try h * tokens.keepTensor
        if let la { h = try h * la(h) }
        return try lnorm(h.sum(axis: 1))
    }
}
