#if canImport(Accelerate)
import Accelerate   // macOS: the same cblas_* interface (see BLAS.swift)
#else
import CBLAS
#endif
import Foundation

/// Measures our products (`BLAS.gemm`, split over `Threads`) against OpenBLAS called directly with
/// its own threading, in the same run, plus the element-wise kernels. Behind `sentencevae bench kernels`.
public enum KernelBenchmark {
    /// Where a product's operands lie, as training calls them: `nt` x[m,k]·W[n,k]ᵀ (a Linear layer
    /// forward), `nn` dY[m,k]·W[k,n] (its input gradient), `tn` dY[k,m]ᵀ·X[k,n] (its weight gradient).
    public enum Layout: String, Codable, CaseIterable, Sendable {
        case nt, nn, tn
        var transA: Bool { self == .tn }
        var transB: Bool { self == .nt }
    }

    public struct ProductResult: Codable {
        public let m, k, n, threads: Int
        public let layout: Layout
        /// "GB/s" for one-row products (weight bytes streamed per second), else "GFLOP/s".
        public let unit: String
        public let ours: Double
        public let openBLAS: Double
        public var ratio: Double { ours / openBLAS }
    }

    /// Memory read bandwidth in GB/s with `threads` threads: a sum over 512 MB, split like a one-row
    /// product, each thread's share read as one stream and as four interleaved ones; the faster
    /// counts. The ceiling for one-row products, which stream their weights once; measured in the
    /// same run because these machines are shared and the figure moves with the neighbours' load.
    /// 512 MB is twice the largest last-level cache seen here (260 MB, Intel Emerald Rapids): with
    /// 256 MB and one stream that machine read 11.8 / 23.9 GB/s on 1 / 2 threads while decoding
    /// streamed 27.6, since its cores keep few misses in flight per stream (four streams: GemvAVX512.c).
    public static func readBandwidth(threads: Int) -> Double {
        let count = 128 << 20
        let buffer = Tensor.full([count], 1)
        let partial = Tensor.zeros([threads])
        let saved = Threads.count
        Threads.count = threads
        defer { Threads.count = saved }
        let chunk = count / threads / 64 * 64
        var best = 0.0
        for streams in [1, 4] {
            let seconds = time(minimum: 0.2, rounds: 3) {
                Threads.shared.run(threads) { i in partial.data[i] += sum(buffer.data + i * chunk, count: chunk, streams: streams) }
            }
            best = max(best, Double(chunk * threads * 4) / seconds / 1e9)
        }
        if partial.data[0] == -1 { print(partial.data[0]) }  // keep the sums alive
        return best
    }

    /// Σ x over `count` floats (a multiple of 64): one stream (`Kernels.sum`) or four interleaved
    /// sequential ones with an accumulator each.
    private static func sum(_ x: UnsafePointer<Float>, count: Int, streams: Int) -> Float {
        guard streams == 4 else { return Kernels.sum(x, count: count) }
        let part = count / 4
        let raw = UnsafeRawPointer(x)
        var a0 = SIMD16<Float>(), a1 = a0, a2 = a0, a3 = a0
        var i = 0
        while i < part {
            a0 += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
            a1 += raw.loadUnaligned(fromByteOffset: 4 * (part + i), as: SIMD16<Float>.self)
            a2 += raw.loadUnaligned(fromByteOffset: 4 * (2 * part + i), as: SIMD16<Float>.self)
            a3 += raw.loadUnaligned(fromByteOffset: 4 * (3 * part + i), as: SIMD16<Float>.self)
            i += 16
        }
        return (a0 + a1 + a2 + a3).sum()
    }

    public struct KernelResult: Codable {
        public let name: String
        public let microseconds: Double
    }

    /// Seconds per call: the best of `rounds` rounds, each long enough (≥ `minimum` s) to time.
    static func time(minimum: Double = 0.05, rounds: Int = 5, _ body: () -> Void) -> Double {
        body()  // warm-up (page faults, thread wake-up)
        var best = Double.infinity
        for _ in 0..<rounds {
            var calls = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            repeat {
                body()
                calls += 1
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } while elapsed < minimum
            best = min(best, elapsed / Double(calls))
        }
        return best
    }

    /// `op(A)[m,k] · op(B)[k,n]` in `layout` (`nt`: PyTorch's Linear layout, as models call it).
    public static func product(m: Int, k: Int, n: Int, threads: Int, layout: Layout = .nt) -> ProductResult {
        var generator = RandomGenerator(seed: 1)
        let a = Tensor.randn([m, k], generator: &generator)
        let b = Tensor.randn([n, k], generator: &generator)
        let c = Tensor.zeros([m, n])
        let (transA, transB) = (layout.transA, layout.transB)
        let lda = transA ? m : k, ldb = transB ? k : n
        let saved = Threads.count
        defer { Threads.count = saved }
        // Alternate rounds of ours and OpenBLAS's, keeping the best of each, so drift in the
        // machine's load hits both sides alike.
        var ours = Double.infinity, direct = Double.infinity
        for _ in 0..<5 {
            Threads.count = threads
            BLAS.setOpenBLASThreads(1)
            ours = min(ours, time(rounds: 1) {
                BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a.data, lda: lda, b: b.data, ldb: ldb, c: c.data, ldc: n)
            })
            Threads.count = 1  // our pool's workers must not compete with OpenBLAS's threads
            BLAS.setOpenBLASThreads(threads)
            direct = min(direct, time(rounds: 1) {
                if m == 1, layout == .nt {
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, b.data, Int32(k), a.data, 1, 0, c.data, 1)
                } else {
                    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, Int32(m),
                                Int32(n), Int32(k), 1, a.data, Int32(lda), b.data, Int32(ldb), 0, c.data, Int32(n))
                }
            })
        }
        BLAS.setOpenBLASThreads(1)
        if m == 1, layout == .nt {
            let bytes = Double(n * k * 4)
            return ProductResult(m: m, k: k, n: n, threads: threads, layout: layout, unit: "GB/s", ours: bytes / ours / 1e9,
                                 openBLAS: bytes / direct / 1e9)
        }
        let flops = 2 * Double(m) * Double(n) * Double(k)
        return ProductResult(m: m, k: k, n: n, threads: threads, layout: layout, unit: "GFLOP/s", ours: flops / ours / 1e9,
                             openBLAS: flops / direct / 1e9)
    }

    public struct CompactResult: Codable {
        public let m, k, n, threads: Int
        /// Seconds per product by storage format ("f32", "bf16", "q8"), through `WeightMatrix.product`.
        public let seconds: [String: Double]
    }

    /// `x[m,k] · W[n,k]ᵀ` through `WeightMatrix.product` with the weights in each storage format,
    /// in alternating rounds (best of each).
    public static func compactProduct(m: Int, k: Int, n: Int, threads: Int) throws -> CompactResult {
        var generator = RandomGenerator(seed: 3)
        let x = Tensor.randn([m, k], generator: &generator)
        let source = Tensor.randn([n, k], std: 0.05, generator: &generator)
        let out = Tensor.zeros([m, n])
        let formats = WeightFormat.allCases.filter { $0.supports(columns: k) }
        let matrices = try formats.map { try WeightMatrix(source).converted(to: $0) }
        let saved = Threads.count
        Threads.count = threads
        defer { Threads.count = saved }
        var best = [Double](repeating: .infinity, count: formats.count)
        for _ in 0..<5 {
            for (i, w) in matrices.enumerated() {
                best[i] = min(best[i], time(rounds: 1) { w.product(x.data, rows: m, into: out.data) })
            }
        }
        return CompactResult(m: m, k: k, n: n, threads: threads,
                             seconds: Dictionary(uniqueKeysWithValues: zip(formats.map(\.rawValue), best)))
    }

    /// Single-threaded element-wise kernels at model sizes.
    public static func kernels() -> [KernelResult] {
        var generator = RandomGenerator(seed: 2)
        let logits = Tensor.randn([50272], std: 3, generator: &generator)
        let hidden = Tensor.randn([768], generator: &generator)
        let gamma = Tensor.ones([768]), beta = Tensor.zeros([768])
        let ffn = Tensor.randn([3072], generator: &generator)
        let out = Tensor.zeros([50272])
        func us(_ body: () -> Void) -> Double { time(minimum: 0.02, body) * 1e6 }
        return [
            KernelResult(name: "softmax 50272", microseconds: us { Kernels.softmaxRow(logits.data, out.data, count: 50272) }),
            KernelResult(name: "log-softmax 50272", microseconds: us { Kernels.logSoftmaxRow(logits.data, out.data, count: 50272) }),
            KernelResult(name: "layernorm 768", microseconds: us { Kernels.layerNormRow(hidden.data, out.data, count: 768, gamma: gamma.data, beta: beta.data, eps: 1e-5) }),
            KernelResult(name: "gelu 3072", microseconds: us { Kernels.gelu(ffn.data, out.data, count: 3072) }),
            KernelResult(name: "relu 3072", microseconds: us { Kernels.relu(ffn.data, out.data, count: 3072) }),
            KernelResult(name: "add 50272", microseconds: us { Kernels.add(logits.data, logits.data, out.data, count: 50272) }),
        ]
    }
}
