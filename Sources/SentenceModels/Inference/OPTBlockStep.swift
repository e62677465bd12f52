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
    /// With `lastRowOnly` (the last layer, when only the last position's output is read) every row
    /// still writes its key and value, but only the last row goes on through the query, attention,
    /// out-projection and feed-forward; the other rows of `x` are left as they were (llama.cpp skips
    /// the outputs it does not need alike). The last layer of a 64-token OPT-125m prefill then does
    /// 18 % of its multiply-adds (keys and values 2/12, the rest 10/12 of one row in 64).
    func callAsFunction(_ x: UnsafeMutablePointer<Float>, rows n: Int, cache: KVCache, lastRowOnly: Bool = false) throws {
        let past = cache.length
        guard past + n <= cache.capacity else {
            throw TensorError.invalidArgument(op: "OPT step", reason: "sequence of \(past + n) positions exceeds the cache capacity \(cache.capacity)")
        }
        let count = n * width
        let pre = layer.layerNormBefore
        // Each block's input: LayerNorm(x) written out of place (pre-LN), or x itself (post-LN: x
        // changes only after the block's products have read it); no copy of x either way.
        let normed = pre ? self.normed.reserve(count) : x

        // Self-attention block: keys and values of every row, then the rows carried on.
        if pre { RowOps.layerNorm(layer.selfAttnLayerNorm, x, into: normed, rows: n) }
        k(normed, rows: n, cache.keys + past * width)
        v(normed, rows: n, cache.values + past * width)
        cache.length = past + n
        let first = lastRowOnly ? n - 1 : 0, m = n - first
        let xs = x + first * width, ns = normed + first * width, carried = m * width
        let q = self.query.reserve(carried), attended = self.attended.reserve(carried), projected = self.projected.reserve(carried)
        self.q(ns, rows: m, q)
        attention(q: q, rows: m, cache: cache, past: past + first, scale: 1 / Float(attention.headDim).squareRoot(), out: attended)
        out(attended, rows: m, projected)
        RowOps.addInPlace(xs, projected, count: carried)
        if !pre { RowOps.layerNorm(layer.selfAttnLayerNorm, xs, rows: m) }

        // Feed-forward block.
        if pre { RowOps.layerNorm(layer.finalLayerNorm, xs, into: ns, rows: m) }
        RowOps.feedForward(fc1, fc2, ns, rows: m, scratch: ffn, into: projected)
        RowOps.addInPlace(xs, projected, count: carried)
        if !pre { RowOps.layerNorm(layer.finalLayerNorm, xs, rows: m) }
    }
}
