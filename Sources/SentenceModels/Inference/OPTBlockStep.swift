import NeuralNet
import TensorCore

/// One `OPTDecoderLayer` over `n` new rows with a KV cache, in place on raw buffers. Used by the
/// token-level OPT (n = prompt length, then 1 per token) and by the SLLM (one row per sentence).
final class OPTBlockStep {
    let layer: OPTDecoderLayer
    let width: Int
    let ffnDim: Int
    let attention: CachedAttention
    private let normed = ScratchBuffer(), q = ScratchBuffer(), attended = ScratchBuffer(), projected = ScratchBuffer(), ffn = ScratchBuffer()

    init(_ layer: OPTDecoderLayer) {
        self.layer = layer
        width = layer.fc1.weight.shape[1]
        ffnDim = layer.fc1.weight.shape[0]
        attention = CachedAttention(heads: layer.selfAttn.heads, width: width)
    }

    /// `x` `[n, width]` at positions `cache.length ..< cache.length + n`; appends to the cache.
    func callAsFunction(_ x: UnsafeMutablePointer<Float>, rows n: Int, cache: KVCache) throws {
        let past = cache.length
        guard past + n <= cache.capacity else {
            throw TensorError.invalidArgument(op: "OPT step", reason: "sequence of \(past + n) positions exceeds the cache capacity \(cache.capacity)")
        }
        let count = n * width
        let normed = self.normed.reserve(count), q = self.q.reserve(count)
        let attended = self.attended.reserve(count), projected = self.projected.reserve(count)
        let pre = layer.layerNormBefore

        // Self-attention block.
        normed.update(from: x, count: count)
        if pre { RowOps.layerNorm(layer.selfAttnLayerNorm, normed, rows: n) }
        let attn = layer.selfAttn
        RowOps.linear(attn.qProj, normed, rows: n, q)
        RowOps.linear(attn.kProj, normed, rows: n, cache.keys + past * width)
        RowOps.linear(attn.vProj, normed, rows: n, cache.values + past * width)
        cache.length = past + n
        attention(q: q, rows: n, cache: cache, past: past, scale: 1 / Float(attention.headDim).squareRoot(), out: attended)
        RowOps.linear(attn.outProj, attended, rows: n, projected)
        RowOps.addInPlace(x, projected, count: count)
        if !pre { RowOps.layerNorm(layer.selfAttnLayerNorm, x, rows: n) }

        // Feed-forward block.
        normed.update(from: x, count: count)
        if pre { RowOps.layerNorm(layer.finalLayerNorm, normed, rows: n) }
        let hidden = ffn.reserve(n * ffnDim)
        RowOps.linear(layer.fc1, normed, rows: n, hidden)
        Kernels.relu(hidden, hidden, count: n * ffnDim)
        RowOps.linear(layer.fc2, hidden, rows: n, projected)
        RowOps.addInPlace(x, projected, count: count)
        if !pre { RowOps.layerNorm(layer.finalLayerNorm, x, rows: n) }
    }
}
