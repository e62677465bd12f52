import NeuralNet
import TensorCore

/// One `OPTDecoderLayer` over `n` new rows with a KV cache, in place on raw buffers. Used by the
/// token-level OPT (n = prompt length, then 1 per token) and by the SLLM (one row per sentence).
final class OPTBlockStep {
    let layer: OPTDecoderLayer
    let width: Int
    let attention: CachedAttention
    private let q, k, v, out, fc1, fc2: InferenceLinear
    private let normed = ScratchBuffer(), query = ScratchBuffer(), attended = ScratchBuffer(), projected = ScratchBuffer(), ffn = ScratchBuffer()

    init(_ layer: OPTDecoderLayer, weights: InferenceWeights) {
        self.layer = layer
        width = layer.fc1.weight.shape[1]
        attention = CachedAttention(heads: layer.selfAttn.heads, width: width)
        let attn = layer.selfAttn
        q = InferenceLinear(attn.qProj, weights)
        k = InferenceLinear(attn.kProj, weights)
        v = InferenceLinear(attn.vProj, weights)
        out = InferenceLinear(attn.outProj, weights)
        fc1 = InferenceLinear(layer.fc1, weights)
        fc2 = InferenceLinear(layer.fc2, weights)
    }

    /// `x` `[n, width]` at positions `cache.length ..< cache.length + n`; appends to the cache.
    func callAsFunction(_ x: UnsafeMutablePointer<Float>, rows n: Int, cache: KVCache) throws {
        let past = cache.length
        guard past + n <= cache.capacity else {
            throw TensorError.invalidArgument(op: "OPT step", reason: "sequence of \(past + n) positions exceeds the cache capacity \(cache.capacity)")
        }
        let count = n * width
        let q = self.query.reserve(count), attended = self.attended.reserve(count), projected = self.projected.reserve(count)
        let pre = layer.layerNormBefore
        // Each block's input: LayerNorm(x) written out of place (pre-LN), or x itself (post-LN: x
        // changes only after the block's products have read it); no copy of x either way.
        let normed = pre ? self.normed.reserve(count) : x

        // Self-attention block.
        if pre { RowOps.layerNorm(layer.selfAttnLayerNorm, x, into: normed, rows: n) }
        self.q(normed, rows: n, q)
        k(normed, rows: n, cache.keys + past * width)
        v(normed, rows: n, cache.values + past * width)
        cache.length = past + n
        attention(q: q, rows: n, cache: cache, past: past, scale: 1 / Float(attention.headDim).squareRoot(), out: attended)
        out(attended, rows: n, projected)
        RowOps.addInPlace(x, projected, count: count)
        if !pre { RowOps.layerNorm(layer.selfAttnLayerNorm, x, rows: n) }

        // Feed-forward block.
        if pre { RowOps.layerNorm(layer.finalLayerNorm, x, into: normed, rows: n) }
        RowOps.feedForward(fc1, fc2, normed, rows: n, scratch: ffn, into: projected)
        RowOps.addInPlace(x, projected, count: count)
        if !pre { RowOps.layerNorm(layer.finalLayerNorm, x, rows: n) }
    }
}
