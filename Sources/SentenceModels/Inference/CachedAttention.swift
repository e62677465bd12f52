import Foundation
import TensorCore

/// Multi-head attention of `n` new queries over a KV cache: query i (at position `past + i`) sees
/// cached positions `0 ... past + i` (causal). The new keys/values must already be in the cache.
/// Without `causal` (the sentence encoder) every query sees all `past + n` positions.
/// Heads run in parallel on the thread pool when there is enough work.
final class CachedAttention {
    let heads: Int
    let headDim: Int
    private let scores = ScratchBuffer()

    init(heads: Int, width: Int) {
        self.heads = heads
        headDim = width / heads
    }

    /// Arguments of one call, handed to the pool's tasks by pointer (no allocation per call).
    private struct Arguments {
        let q: UnsafePointer<Float>
        let n, past, heads, headDim: Int
        let keys, values: UnsafePointer<Float>
        let scale: Float
        let causal: Bool
        let scores: UnsafeMutablePointer<Float>
        let out: UnsafeMutablePointer<Float>
    }

    /// `q` `[n, width]` (`scale` multiplies the scores), output `[n, width]`.
    func callAsFunction(q: UnsafePointer<Float>, rows n: Int, cache: KVCache, past: Int, scale: Float, out: UnsafeMutablePointer<Float>) {
        // Scores for the whole cache at once: growing by one position per token would allocate per token.
        scores.reserve(heads * cache.capacity)
        self(q: q, rows: n, keys: cache.keys, values: cache.values, past: past, causal: true, scale: scale, out: out)
    }

    /// The same over `keys`/`values` `[past + n, width]` held anywhere.
    func callAsFunction(q: UnsafePointer<Float>, rows n: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, past: Int,
                        causal: Bool, scale: Float, out: UnsafeMutablePointer<Float>) {
        let total = past + n
        var args = Arguments(q: q, n: n, past: past, heads: heads, headDim: headDim, keys: keys, values: values,
                             scale: scale, causal: causal, scores: scores.reserve(heads * total), out: out)
        if n * total * heads * headDim >= 1 << 16 {
            Threads.shared.run(heads, context: &args) { context, h in
                CachedAttention.head(h, context!.assumingMemoryBound(to: Arguments.self).pointee)
            }
        } else {
            for h in 0..<heads { Self.head(h, args) }
        }
    }

    /// Head `h` for every query row.
    private static func head(_ h: Int, _ a: Arguments) {
        let width = a.heads * a.headDim, total = a.past + a.n
        let s = a.scores + h * total
        for i in 0..<a.n {
            let visible = a.causal ? a.past + i + 1 : total
            let column = i * width + h * a.headDim
            Kernels.attentionScores(a.q + column, keys: a.keys + h * a.headDim, stride: width, count: visible, dim: a.headDim,
                                    scale: a.scale, into: s)
            Kernels.softmaxRow(s, s, count: visible)
            Kernels.attentionMix(s, values: a.values + h * a.headDim, stride: width, count: visible, dim: a.headDim, into: a.out + column)
        }
    }
}
