import Foundation

extension KernelBenchmark {
    /// The CPU's fp32 FMA peak as measured here and now: register-only loops of independent
    /// `addingProduct` chains (no memory traffic), on `threads` threads at once.
    public struct PeakResult: Codable {
        public let threads: Int
        /// GFLOP/s of all threads together (an FMA counts as 2 FLOPs).
        public let gflops: Double
        public var perThread: Double { gflops / Double(threads) }
        /// The loop that gave it: "SIMD8×12" (fills 16 AVX2 registers) or "SIMD16×10" (AVX-512).
        public let variant: String
    }

    /// Twelve 8-lane accumulators: 12 ymm registers under AVX2, enough in flight to cover FMA latency
    /// (4–5 cycles × 2 ports). Returns a value that depends on every accumulator.
    @inline(never)
    static func fmaChains8(_ iterations: Int, _ seed: Float) -> Float {
        typealias V = SIMD8<Float>
        let x = V(repeating: 0.999_999), y = V(repeating: seed * 1e-7)
        var a0 = V(repeating: seed), a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5
        var a6 = a0 + 6, a7 = a0 + 7, a8 = a0 + 8, a9 = a0 + 9, a10 = a0 + 10, a11 = a0 + 11
        for _ in 0..<iterations {
            a0 = y.addingProduct(a0, x); a1 = y.addingProduct(a1, x); a2 = y.addingProduct(a2, x); a3 = y.addingProduct(a3, x)
            a4 = y.addingProduct(a4, x); a5 = y.addingProduct(a5, x); a6 = y.addingProduct(a6, x); a7 = y.addingProduct(a7, x)
            a8 = y.addingProduct(a8, x); a9 = y.addingProduct(a9, x); a10 = y.addingProduct(a10, x); a11 = y.addingProduct(a11, x)
        }
        let s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11))
        return s[0] + s[7]
    }

    /// Ten 16-lane accumulators: 10 zmm registers under AVX-512 (under AVX2 they spill, and the
    /// 8-lane loop gives the peak instead).
    @inline(never)
    static func fmaChains16(_ iterations: Int, _ seed: Float) -> Float {
        typealias V = SIMD16<Float>
        let x = V(repeating: 0.999_999), y = V(repeating: seed * 1e-7)
        var a0 = V(repeating: seed), a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4
        var a5 = a0 + 5, a6 = a0 + 6, a7 = a0 + 7, a8 = a0 + 8, a9 = a0 + 9
        for _ in 0..<iterations {
            a0 = y.addingProduct(a0, x); a1 = y.addingProduct(a1, x); a2 = y.addingProduct(a2, x); a3 = y.addingProduct(a3, x)
            a4 = y.addingProduct(a4, x); a5 = y.addingProduct(a5, x); a6 = y.addingProduct(a6, x); a7 = y.addingProduct(a7, x)
            a8 = y.addingProduct(a8, x); a9 = y.addingProduct(a9, x)
        }
        let s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + (a8 + a9)
        return s[0] + s[15]
    }

    /// FMA peak with `threads` threads, each running the same loop; the better of the two loops,
    /// best of a few rounds. Only meaningful in a release build (`-target-cpu native` gives the
    /// CPU's widest vectors; without it x86-64 compiles to SSE2 without FMA and the figure is that
    /// build's own peak, which is what our Swift kernels get, not OpenBLAS's).
    public static func fmaPeak(threads: Int) -> PeakResult {
        let saved = Threads.count
        Threads.count = threads
        defer { Threads.count = saved }
        let sink = Tensor.zeros([threads])
        var best: PeakResult?
        for (variant, flopsPerIteration, loop) in [("SIMD8×12", 12 * 8 * 2, fmaChains8), ("SIMD16×10", 10 * 16 * 2, fmaChains16)] as [(String, Int, (Int, Float) -> Float)] {
            let iterations = 200_000
            let seconds = time(minimum: 0.05, rounds: 3) {
                Threads.shared.run(threads) { i in sink.data[i] += loop(iterations, Float(i + 1)) }
            }
            let gflops = Double(flopsPerIteration * iterations * threads) / seconds / 1e9
            if gflops > best?.gflops ?? 0 { best = PeakResult(threads: threads, gflops: gflops, variant: variant) }
        }
        if sink.data[0] == -1 { print(sink.data[0]) }  // keep the results alive
        return best!
    }
}
