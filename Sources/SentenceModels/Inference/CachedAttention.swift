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
        if n >= Self.blockedRows {
            blocked(q: q, rows: n, keys: cache.keys, values: cache.values, past: past, scale: scale, out: out)
            return
        }
        // Scores for the whole cache at once: growing by one position per token would allocate per token.
        scores.reserve(heads * cache.capacity)
        self(q: q, rows: n, keys: cache.keys, values: cache.values, past: past, causal: true, scale: scale, out: out)
    }

    /// From this many query rows (a prompt) each head takes its queries `blockRows` at a time, as two
    /// matrix products: scores = Q·Kᵀ over the keys the block's last query sees, then P·V with the
    /// probabilities past each query's own position set to zero. One query at a time, the dot
    /// products and the weighted sums of the rows below took 20 % of a 512-token OPT-125m prefill.
    static let blockedRows = 16
    static let blockRows = 32
    private let blockScores = ScratchBuffer()

    /// Causal attention of `n` ≥ `blockedRows` queries (positions `past ..< past + n`), by blocks.
    private func blocked(q: UnsafePointer<Float>, rows n: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                         past: Int, scale: Float, out: UnsafeMutablePointer<Float>) {
        let block = min(Self.blockRows, n)
        var args = Arguments(q: q, n: n, past: past, heads: heads, headDim: headDim, keys: keys, values: values, scale: scale,
                             causal: true, scores: blockScores.reserve(heads * block * (past + n)), out: out)
        Threads.shared.run(heads, context: &args) { context, h in
            CachedAttention.blockedHead(h, context!.assumingMemoryBound(to: Arguments.self).pointee)
        }
    }

    /// Head `h` of `blocked`, its queries `blockRows` at a time.
    private static func blockedHead(_ h: Int, _ a: Arguments) {
        let width = a.heads * a.headDim, block = min(blockRows, a.n)
        let s = a.scores + h * block * (a.past + a.n)
        var i0 = 0
        while i0 < a.n {
            let rows = min(block, a.n - i0), seen = a.past + i0 + rows   // keys the block's last query sees
            BLAS.singleThreadGemm(transA: false, transB: true, m: rows, n: seen, k: a.headDim, a: a.q + i0 * width + h * a.headDim,
                                  lda: width, b: a.keys + h * a.headDim, ldb: width, c: s, ldc: seen)
            for r in 0..<rows {
                let row = s + r * seen, visible = a.past + i0 + r + 1
                Kernels.affine(row, scale: a.scale, shift: 0, row, count: visible)
                Kernels.softmaxRow(row, row, count: visible)
                (row + visible).update(repeating: 0, count: seen - visible)
            }
            BLAS.singleThreadGemm(transA: false, transB: false, m: rows, n: a.headDim, k: seen, a: s, lda: seen,
                                  b: a.values + h * a.headDim, ldb: width, c: a.out + i0 * width + h * a.headDim, ldc: width)
            i0 += rows
        }
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
