import Foundation
import TensorCore

/// Multi-head attention of `n` new queries over a KV cache: query i (at position `past + i`) sees
/// cached positions `0 ... past + i` (causal). The new keys/values must already be in the cache.
/// Heads run in parallel on the thread pool when there is enough work.
final class CachedAttention {
    let heads: Int
    let headDim: Int
    private let scores = ScratchBuffer()

    init(heads: Int, width: Int) {
        self.heads = heads
        headDim = width / heads
    }

    /// `q` `[n, width]` (already scaled or not: `scale` multiplies the scores), output `[n, width]`.
    func callAsFunction(q: UnsafePointer<Float>, rows n: Int, cache: KVCache, past: Int, scale: Float, out: UnsafeMutablePointer<Float>) {
        let width = heads * headDim
        let total = past + n
        let scratch = scores.reserve(heads * total)
        let keys = cache.keys, values = cache.values
        let (heads, headDim) = (self.heads, self.headDim)
        let work = n * total * width
        let body: (Int) -> Void = { h in
            let s = scratch + h * total
            for i in 0..<n {
                let visible = past + i + 1
                let qi = q + i * width + h * headDim
                for j in 0..<visible {
                    s[j] = Kernels.dot(qi, keys + j * width + h * headDim, count: headDim) * scale
                }
                Kernels.softmaxRow(s, s, count: visible)
                let o = out + i * width + h * headDim
                o.update(repeating: 0, count: headDim)
                for j in 0..<visible {
                    let p = s[j]
                    let v = values + j * width + h * headDim
                    for d in 0..<headDim { o[d] += p * v[d] }
                }
            }
        }
        if work >= 1 << 16 {
            Threads.shared.run(heads, body)
        } else {
            for h in 0..<heads { body(h) }
        }
    }
}
