import NeuralNet
import TensorCore

/// Token-by-token OPT inference with a per-layer KV cache preallocated for `capacity` positions:
/// `prefill` runs the prompt as one batch of rows, then each `step` runs one token (sgemv) and
/// returns the next-token logits. After the first call sized the scratch buffers, a step
/// allocates no tensors or buffers. Matrices are read through `weights` (fp32, bf16 or q8); the
/// tied embedding is both the lookup table (one row widened per token) and the LM head.
public final class OPTGenerator: CachedTokenStep {
    public let model: OPTModel
    public let capacity: Int
    let blocks: [OPTBlockStep]
    let caches: [KVCache]
    public let weights: InferenceWeights
    private let table: WeightMatrix
    private let projectIn, projectOut: InferenceLinear?
    private let hidden = ScratchBuffer(), projected = ScratchBuffer()
    public let logits: UnsafeMutablePointer<Float>

    public init(model: OPTModel, capacity: Int? = nil, weights: InferenceWeights = InferenceWeights()) {
        self.model = model
        let positions = min(capacity ?? model.config.maxPositionEmbeddings, model.config.maxPositionEmbeddings)
        self.capacity = positions
        self.weights = weights
        table = weights.matrix(model.embedTokens.weight)
        projectIn = model.projectIn.map { InferenceLinear($0, weights) }
        projectOut = model.projectOut.map { InferenceLinear($0, weights) }
        blocks = model.layers.map { OPTBlockStep($0, weights: weights) }
        caches = model.layers.map { _ in KVCache(capacity: positions, width: model.config.hiddenSize) }
        logits = .allocate(capacity: model.config.vocabularySize)
    }

    deinit { logits.deallocate() }

    /// Positions held in the cache.
    public var length: Int { caches.isEmpty ? 0 : caches[0].length }

    public func reset() { for l in 0..<caches.count { caches[l].reset() } }

    /// Bytes of KV cache per position (all layers).
    public var cacheBytesPerPosition: Int { caches.reduce(0) { $0 + $1.bytes } / max(capacity, 1) }

    /// Bytes of KV cache in use (the positions held).
    public var cacheBytesHeld: Int { length * cacheBytesPerPosition }

    /// Runs `tokens` (the prompt, or one new token) after what the cache holds and leaves the
    /// logits of the last one in `logits` (`[vocabulary]`).
    public func run(_ tokens: UnsafeBufferPointer<Int>) throws -> UnsafeMutablePointer<Float> {
        let config = model.config
        let n = tokens.count
        guard n > 0 else { throw TensorError.invalidArgument(op: "OPTGenerator", reason: "no tokens to run") }
        guard length + n <= capacity else {
            throw TensorError.invalidArgument(op: "OPTGenerator", reason: "\(length + n) positions exceed the limit of \(capacity) (max_position_embeddings or --max-length)")
        }
        let width = config.hiddenSize, embedWidth = config.wordEmbedProjectionDim
        let x = hidden.reserve(n * width)
        try RowOps.embed(tokens, table: table, projectIn: projectIn, scratch: projected, into: x)
        // Batch 1 without padding: position p has id p + 2.
        let positions = model.embedPositions.weight.data
        for i in 0..<n {
            RowOps.addInPlace(x + i * width, positions + (length + i + OPTLearnedPositions.offset) * width, count: width)
        }
        // Only the last row is read after the layers, so the last one carries no other row on.
        for l in 0..<blocks.count { try blocks[l](x, rows: n, cache: caches[l], lastRowOnly: l == blocks.count - 1) }
        // Only the last row goes through the head.
        var last = x + (n - 1) * width
        if let norm = model.finalLayerNorm { RowOps.layerNorm(norm, last, rows: 1) }
        if let projectOut {
            let out = projected.reserve(max(width, embedWidth))
            projectOut(last, rows: 1, out)
            last = out
        }
        table.product(last, rows: 1, into: logits)
        return logits
    }
}
