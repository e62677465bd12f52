import NeuralNet
import TensorCore

/// The front of the original's sentence encoder and decoder: token embedding (`embed_token`),
/// `project_in` when the embedding is narrower than the model (OPT-350m's 512 → 1024), and the
/// fixed sinusoidal positions (not parameters).
public final class SentenceEmbedding: Layer {
    public let embedToken: Embedding
    public let projectIn: Linear?
    let positions: Tensor
    let maxLength: Int

    init(config: SentenceVAEConfiguration, generator: inout RandomGenerator) throws {
        embedToken = Embedding(config.vocabularySize, config.wordEmbedProjectionDim, paddingIndex: config.padId, generator: &generator)
        projectIn = config.wordEmbedProjectionDim != config.hiddenSize
            ? Linear(config.wordEmbedProjectionDim, config.hiddenSize, bias: false, generator: &generator) : nil
        positions = try SinusoidalPositions.table(length: config.maxSequenceLength, dim: config.hiddenSize)
        maxLength = config.maxSequenceLength
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed("embed_token", embedToken) + (projectIn.map { prefixed("project_in", $0) } ?? [])
    }

    /// Token embeddings plus positions, `[batch, length, hidden]`.
    public func callAsFunction(_ tokens: TokenBatch) throws -> Tensor {
        guard tokens.length <= maxLength else {
            throw TensorError.invalidArgument(op: "sentence model", reason: "sequence of \(tokens.length) tokens exceeds max_seq_len \(maxLength); truncate the input")
        }
        var x = try embedToken(tokens.ids, shape: [tokens.batch, tokens.length])
        if let projectIn { x = try projectIn(x) }
        return try x + positions.slice(axis: 0, 0..<tokens.length)
    }
}
