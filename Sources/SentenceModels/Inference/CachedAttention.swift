import Foundation
import TensorCore

/// Multi-head attention of `n` new queries over a KV cache: query i (at position `past + i`) sees
/// cached positions `0 ... past + i` (causal). The new keys/values must already be in the cache.
/// Without `causal` (the sentence encoder) every query sees all `past + n` positions.
/// Heads run in parallel on the thread pool when there is enough work; a single query (a decoding
/// step) splits the cached positions between the threads instead (`oneQuery`).
final class CachedAttention {
    let heads: Int
    let headDim: Int
    private let scores = ScratchBuffer()
    private let partials = ScratchBuffer()

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
        if n == 1 {
            oneQuery(q: q, keys: keys, values: values, total: total, scale: scale, out: out)
            return
        }
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

    /// Arguments of `oneQuery`'s parts.
    private struct OneQuery {
        let q, keys, values: UnsafePointer<Float>
        let heads, headDim, total, parts: Int
        let scale: Float
        let scores: UnsafeMutablePointer<Float>     // heads × total: part p's heads × its count from heads × its start
        let partials: UnsafeMutablePointer<Float>   // per part: width floats of output, then (max, total) per head
        let out: UnsafeMutablePointer<Float>
    }

    /// From this many cache floats (positions × width) a decoding step's attention splits its
    /// positions between the threads.
    static let splitFloats = 1 << 14
    /// Parts per thread, at least 16 positions each, handed out as threads free up: the time a run
    /// of cold cache rows takes varies, and with one part per thread one thread waited for the
    /// other 8–16 µs a layer on average at 8–208 positions (OPT-125m q8, AMD Zen 4), 1.6–3.1 % of
    /// a step; with four, 4–8 µs. Decode speed itself came out level (1, 2, 4 and 8 parts per
    /// thread within 1.5 % of each other in one run): shorter runs of rows stream a little slower
    /// (BENCHMARKS.md).
    static let partsPerThread = 4

    /// One query (a decoding step) over all `total` cached positions. Each part takes a run of
    /// positions for every head, reading those cache rows in order (`attentionScoresRows`), with
    /// its own softmax; the parts' outputs are then merged by their softmaxes' max and sum. Cold
    /// (the weights streamed since evicted the cache), OPT-125m's 12 layers at 80 and 200
    /// positions on two threads (AMD Zen 4) took 0.32–0.63 of the time the head-by-head kernels
    /// took on one.
    private func oneQuery(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, total: Int,
                          scale: Float, out: UnsafeMutablePointer<Float>) {
        let width = heads * headDim, threads = Threads.shared.threadCount
        let parts = threads > 1 && total * width >= Self.splitFloats ? max(1, min(Self.partsPerThread * threads, total / 16)) : 1
        var args = OneQuery(q: q, keys: keys, values: values, heads: heads, headDim: headDim, total: total, parts: parts,
                            scale: scale, scores: scores.reserve(heads * total),
                            // Sized for every thread, not this call's parts: the part count grows with the
                            // cache, and a buffer that grew with it would allocate mid-generation.
                            partials: partials.reserve(Self.partsPerThread * threads * (width + 2 * heads)), out: out)
        if parts == 1 {
            Self.part(0, args)
            return
        }
        Threads.shared.run(parts, context: &args) { context, p in
            CachedAttention.part(p, context!.assumingMemoryBound(to: OneQuery.self).pointee)
        }
        Self.merge(args)
    }

    /// `out_h = Σ_p w_p · out_p,h` with `w_p ∝ total_p · exp(max_p − max)`: each part's softmax
    /// rescaled to the whole row's.
    private static func merge(_ a: OneQuery) {
        let width = a.heads * a.headDim, size = width + 2 * a.heads
        for h in 0..<a.heads {
            var top = -Float.infinity
            for p in 0..<a.parts { top = max(top, a.partials[p * size + width + 2 * h]) }
            let o = a.out + h * a.headDim
            o.update(repeating: 0, count: a.headDim)
            guard top > -.infinity else { continue }
            var sum: Float = 0
            for p in 0..<a.parts {
                let stats = a.partials + p * size + width + 2 * h
                sum += stats[1] * Foundation.exp(stats[0] - top)
            }
            for p in 0..<a.parts {
                let stats = a.partials + p * size + width + 2 * h, part = a.partials + p * size + h * a.headDim
                let w = stats[1] * Foundation.exp(stats[0] - top) / sum
                for c in 0..<a.headDim { o[c] += w * part[c] }
            }
        }
    }

    /// Part `p` of `oneQuery`: its positions' scores, softmax and weighted values for every head;
    /// with a single part, the output itself.
    private static func part(_ p: Int, _ a: OneQuery) {
        let width = a.heads * a.headDim
        let start = p * a.total / a.parts, count = (p + 1) * a.total / a.parts - start
        let s = a.scores + a.heads * start
        let base = a.partials + p * (width + 2 * a.heads)
        Kernels.attentionScoresRows(a.q, keys: a.keys + start * width, stride: width, heads: a.heads, dim: a.headDim,
                                    count: count, scale: a.scale, into: s, ld: count)
        for h in 0..<a.heads {
            let (top, sum) = Kernels.softmaxRowStatistics(s + h * count, s + h * count, count: count)
            base[width + 2 * h] = top
            base[width + 2 * h + 1] = sum
        }
        Kernels.attentionMixRows(s, values: a.values + start * width, stride: width, heads: a.heads, dim: a.headDim,
                                 count: count, ld: count, into: a.parts == 1 ? a.out : base)
    }
}
