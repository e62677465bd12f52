import CPUKernels
import TestSupport
import XCTest
@testable import TensorCore

/// `BLAS.gemm` (every transpose combination, the gemv paths, threaded splits) against a naive
/// Double-precision product, and the thread pool's own contract.
final class BLASTests: XCTestCase {
    private func naive(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transA: Bool, transB: Bool) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s: Double = 0
                for p in 0..<k {
                    let av = transA ? a[p * m + i] : a[i * k + p]
                    let bv = transB ? b[j * k + p] : b[p * n + j]
                    s += Double(av) * Double(bv)
                }
                c[i * n + j] = Float(s)
            }
        }
        return c
    }

    /// C as `gemm` must leave it: op(A)·op(B) (+ the starting C when `accumulate`) by the naive
    /// reference on tight copies of the padded operands, and C's padding columns as they started.
    private func reference(_ a: [Float], lda: Int, _ b: [Float], ldb: Int, start: [Float], ldc: Int, m: Int, n: Int, k: Int,
                           transA: Bool, transB: Bool, accumulate: Bool) -> [Float] {
        let (rowsA, colsA) = transA ? (k, m) : (m, k)
        let (rowsB, colsB) = transB ? (n, k) : (k, n)
        let tightA = (0..<rowsA).flatMap { a[($0 * lda)..<($0 * lda + colsA)] }
        let tightB = (0..<rowsB).flatMap { b[($0 * ldb)..<($0 * ldb + colsB)] }
        let product = naive(tightA, tightB, m: m, n: n, k: k, transA: transA, transB: transB)
        var expected = start
        for i in 0..<m {
            for j in 0..<n { expected[i * ldc + j] = product[i * n + j] + (accumulate ? start[i * ldc + j] : 0) }
        }
        return expected
    }

    func testGemmAllPathsAndThreadCounts() throws {
        let saved = Threads.count
        defer { Threads.count = saved }
        var generator = RandomGenerator(seed: 5)
        // Small shapes, one-row and one-column products, and shapes big enough to be split.
        let shapes = [(1, 1, 1), (3, 4, 5), (1, 300, 517), (517, 300, 1), (1, 64, 3), (70, 90, 130), (130, 64, 70), (1, 1024, 1024)]
        for threads in [1, 2, 3] {
            Threads.count = threads
            for (m, k, n) in shapes {
                for transA in [false, true] {
                    for transB in [false, true] {
                        let a = Tensor.randn([m * k], generator: &generator).values
                        let b = Tensor.randn([k * n], generator: &generator).values
                        var c = [Float](repeating: .nan, count: m * n)
                        a.withUnsafeBufferPointer { pa in
                            b.withUnsafeBufferPointer { pb in
                                c.withUnsafeMutableBufferPointer { pc in
                                    BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                                              a: pa.baseAddress!, lda: transA ? m : k,
                                              b: pb.baseAddress!, ldb: transB ? k : n,
                                              c: pc.baseAddress!, ldc: n)
                                }
                            }
                        }
                        let expected = naive(a, b, m: m, n: n, k: k, transA: transA, transB: transB)
                        assertClose(c, expected, rel: 1e-4, abs: 1e-4 * Float(k).squareRoot(),
                                    "gemm m=\(m) k=\(k) n=\(n) transA=\(transA) transB=\(transB) threads=\(threads)")
                    }
                }
            }
        }
    }

    /// The products of many rows on both kernels (ours, `CPUKernels/SGEMM.c`, where the CPU runs it,
    /// and the BLAS's): shapes that cross the packing blocks (MC 168 rows, KC 256, NC 4,080 columns)
    /// and end in partial tiles, leading dimensions wider than the matrices, and accumulation. With a
    /// Linear weight (transB) and at most 256 rows ours reads the weight unpacked in 6×16 tiles
    /// (blocks of 4,096 along k): 33×50×61 ends in partial tiles both ways, 20×4,100 crosses a k
    /// block, 300 rows take the packed path, and 256×4,300 is too big for the buffers and falls back.
    /// One-row and one-column products (M·x with x contiguous) go to our fp32 gemv kernel, with
    /// 37 columns ending in both of its tails; where the CPU has AVX-512, on its AVX-512 version too
    /// (37 columns end in a masked tail there, 45 and 517 rows in rows outside its groups of four).
    func testManyRowProductsOnBothKernels() throws {
        let saved = (NativeKernels.enabled, Threads.count, NativeKernels.avx512)
        defer { (NativeKernels.enabled, Threads.count, NativeKernels.avx512) = saved }
        var generator = RandomGenerator(seed: 11)
        let shapes = [(2, 3, 2), (7, 9, 4_100), (200, 300, 35), (169, 513, 17), (6, 256, 16), (33, 50, 61), (20, 4_100, 13),
                      (300, 70, 40), (256, 4_300, 7), (1, 300, 517), (1, 37, 45), (517, 300, 1)]
        for (own, wide) in (NativeKernels.supported ? [(true, false)] : []) + (NativeKernels.avx512Supported ? [(true, true)] : []) + [(false, false)] {
            NativeKernels.enabled = own
            NativeKernels.avx512 = wide
            if own { XCTAssertEqual(BLAS.usesOwnSgemm, BLAS.prefersOwnSgemm(nativeKernels: true, wideKernels: NativeKernels.avx512, blasCore: BLASCore.coreName, cpu: CPUFeatures.current())) }
            for threads in [1, 2] {
                Threads.count = threads
                checkAllLayouts(shapes, generator: &generator, "own=\(own) avx512=\(wide) threads=\(threads)") {
                    transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate in
                    BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                              c: &c, ldc: ldc, accumulate: accumulate)
                }
            }
        }
    }

    /// `product` on every shape (m, k, n) in all four layouts, with and without accumulation, on
    /// padded operands, checked against `reference` (C's padding included).
    private func checkAllLayouts(
        _ shapes: [(Int, Int, Int)], generator: inout RandomGenerator, _ label: String,
        _ product: (Bool, Bool, Int, Int, Int, [Float], Int, [Float], Int, inout [Float], Int, Bool) -> Void
    ) {
        for (m, k, n) in shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    for accumulate in [false, true] {
                        let (rowsA, colsA) = transA ? (k, m) : (m, k)
                        let (rowsB, colsB) = transB ? (n, k) : (k, n)
                        let lda = colsA + 3, ldb = colsB + 5, ldc = n + 2
                        let a = Tensor.randn([rowsA * lda], generator: &generator).values
                        let b = Tensor.randn([rowsB * ldb], generator: &generator).values
                        let start = Tensor.randn([m * ldc], generator: &generator).values
                        var c = start
                        product(transA, transB, m, n, k, a, lda, b, ldb, &c, ldc, accumulate)
                        let expected = reference(a, lda: lda, b, ldb: ldb, start: start, ldc: ldc, m: m, n: n, k: k,
                                                 transA: transA, transB: transB, accumulate: accumulate)
                        assertClose(c, expected, rel: 1e-4, abs: 1e-4 * Float(k).squareRoot(),
                                    "m=\(m) k=\(k) n=\(n) transA=\(transA) transB=\(transB) accumulate=\(accumulate) \(label)")
                    }
                }
            }
        }
    }

    /// The few-rows products (a Linear weight against at most 256 rows, read as it lies), called
    /// directly (`cpu_kernels_sgemm` with a Linear weight's layout) so that each runs on every CPU
    /// that has it, not only where `BLAS` picks it: in AVX2 and in 512-bit tiles. Rows that end in a
    /// lone 16-row panel or a partial one (1, 5, 16, 17, 33, 64, 200), 64-row tiles followed by rows
    /// in 32-row tiles, a partial one or a lone panel (64, 100, 80, 128), in 128-row pieces (130,
    /// 200), weight rows outside the tiles' groups (of 6, 8 or 16), a k that crosses the 4,096
    /// block, padded leading dimensions (C's padding must stay as it was), accumulation.
    func testFewRowsProductsCalledDirectly() throws {
        typealias Product = (Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>, Int, Int32) -> Int32
        var kernels: [(String, Product)] = []
        if NativeKernels.supported { kernels.append(("avx2", { cpu_kernels_sgemm(0, 1, $0, $1, $2, $3, $4, $5, $6, $7, $8, $9, 0) })) }
        if NativeKernels.avx512Supported { kernels.append(("avx512", { cpu_kernels_sgemm(0, 1, $0, $1, $2, $3, $4, $5, $6, $7, $8, $9, 1) })) }
        try XCTSkipIf(kernels.isEmpty, "this CPU has neither AVX2+FMA nor AVX-512")
        var generator = RandomGenerator(seed: 23)
        for (name, product) in kernels {
            for (m, n, k) in [(1, 7, 9), (5, 8, 300), (16, 13, 64), (17, 61, 33), (33, 9, 4_100), (64, 24, 768), (200, 3, 50),
                              (100, 13, 70), (80, 20, 33), (130, 7, 4_100), (128, 50, 40)] {
                for accumulate in [false, true] {
                    let lda = k + 3, ldw = k + 1, ldc = n + 2
                    let a = Tensor.randn([m * lda], generator: &generator).values
                    let w = Tensor.randn([n * ldw], generator: &generator).values
                    let start = Tensor.randn([m * ldc], generator: &generator).values
                    var c = start
                    XCTAssertEqual(product(m, n, k, a, lda, w, ldw, &c, ldc, accumulate ? 1 : 0), 1, "\(name) m=\(m) n=\(n) k=\(k)")
                    let expected = reference(a, lda: lda, w, ldb: ldw, start: start, ldc: ldc, m: m, n: n, k: k,
                                             transA: false, transB: true, accumulate: accumulate)
                    assertClose(c, expected, rel: 1e-4, abs: 1e-4 * Float(k).squareRoot(), "\(name) m=\(m) n=\(n) k=\(k) accumulate=\(accumulate)")
                }
            }
        }
    }

    /// The few-rows product shared by the pool's threads (`cpu_kernels_sgemm_weight_rows_shared`),
    /// called directly in AVX2 and 512-bit tiles on 1–3 threads: shares that end inside a tile and
    /// past the weight's last row, a k across the 4,096 block (the bias is added once), the bias and
    /// accumulation each way, padded leading dimensions (C's padding must stay as it was).
    func testSharedFewRowsProductCalledDirectly() throws {
        var widths: [Int32] = []
        if NativeKernels.supported { widths.append(0) }
        if NativeKernels.avx512Supported { widths.append(1) }
        try XCTSkipIf(widths.isEmpty, "this CPU has neither AVX2+FMA nor AVX-512")
        let saved = Threads.count
        defer { Threads.count = saved }
        var generator = RandomGenerator(seed: 31)
        struct Call {
            let m, n, k, lda, ldw, ldc, threads, chunk: Int
            let a, w: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?
            let accumulate, wide: Int32
            let next: UnsafeMutablePointer<Int>, taken: UnsafeMutablePointer<Int32>
        }
        for wide in widths {
            for threads in [1, 2, 3] {
                Threads.count = threads
                for (m, n, k, chunk) in [(5, 50, 300, 48), (17, 61, 33, 7), (33, 100, 4_100, 48), (64, 200, 768, 96), (2, 13, 9, 1_000),
                                         (100, 61, 300, 48), (150, 40, 70, 48)] {
                    for (withBias, accumulate) in [(false, false), (true, false), (true, true)] {
                        let lda = k + 3, ldw = k + 1, ldc = n + 2
                        let a = Tensor.randn([m * lda], generator: &generator).values
                        let w = Tensor.randn([n * ldw], generator: &generator).values
                        let bias = Tensor.randn([n], generator: &generator).values
                        let start = Tensor.randn([m * ldc], generator: &generator).values
                        var c = start, next = 0, taken = [Int32](repeating: -1, count: threads)
                        a.withUnsafeBufferPointer { pa in w.withUnsafeBufferPointer { pw in bias.withUnsafeBufferPointer { pb in
                            c.withUnsafeMutableBufferPointer { pc in taken.withUnsafeMutableBufferPointer { pt in
                                withUnsafeMutablePointer(to: &next) { counter in
                                    var call = Call(m: m, n: n, k: k, lda: lda, ldw: ldw, ldc: ldc, threads: threads, chunk: chunk, a: pa.baseAddress!,
                                                    w: pw.baseAddress!, c: pc.baseAddress!, bias: withBias ? pb.baseAddress! : nil,
                                                    accumulate: accumulate ? 1 : 0, wide: wide, next: counter, taken: pt.baseAddress!)
                                    Threads.shared.run(threads, context: &call) { context, i in
                                        let c = context!.assumingMemoryBound(to: Call.self).pointee
                                        c.taken[i] = cpu_kernels_sgemm_weight_rows_shared(c.m, c.n, c.k, c.a, c.lda, c.w, c.ldw, c.c, c.ldc,
                                                                                           c.accumulate, c.bias, c.wide, c.threads, c.chunk, c.next)
                                    }
                                }
                            } }
                        } } }
                        let label = "wide=\(wide) threads=\(threads) m=\(m) n=\(n) k=\(k) chunk=\(chunk) bias=\(withBias) accumulate=\(accumulate)"
                        XCTAssertEqual(taken, [Int32](repeating: 1, count: threads), label)
                        var expected = reference(a, lda: lda, w, ldb: ldw, start: start, ldc: ldc, m: m, n: n, k: k,
                                                 transA: false, transB: true, accumulate: accumulate)
                        if withBias { for i in 0..<m { for j in 0..<n { expected[i * ldc + j] += bias[j] } } }
                        assertClose(c, expected, rel: 1e-4, abs: 1e-4 * Float(k).squareRoot(), label)
                    }
                }
            }
        }
    }

    /// `BLAS.linear` (a Linear layer: the product plus the bias on every row) by each of its paths:
    /// one row (gemv), few rows on our shared tiles (where the CPU has them) or the BLAS, many rows
    /// (packed), with and without a bias, on 1 and 2 threads; C's padding must stay as it was.
    func testLinearAddsTheBiasOnEveryPath() {
        let saved = (NativeKernels.enabled, Threads.count)
        defer { (NativeKernels.enabled, Threads.count) = saved }
        var generator = RandomGenerator(seed: 37)
        for own in NativeKernels.supported ? [true, false] : [false] {
            NativeKernels.enabled = own
            for threads in [1, 2] {
                Threads.count = threads
                for (m, n, k) in [(1, 45, 37), (5, 50, 300), (64, 200, 768), (33, 20, 4_100), (300, 40, 70)] {
                    for withBias in [false, true] {
                        let lda = k + 3, ldw = k + 1, ldc = n + 2
                        let a = Tensor.randn([m * lda], generator: &generator).values
                        let w = Tensor.randn([n * ldw], generator: &generator).values
                        let bias = Tensor.randn([n], generator: &generator).values
                        let start = Tensor.randn([m * ldc], generator: &generator).values
                        var c = start
                        bias.withUnsafeBufferPointer { pb in
                            BLAS.linear(m: m, n: n, k: k, a: a, lda: lda, w: w, ldw: ldw, c: &c, ldc: ldc,
                                        bias: withBias ? pb.baseAddress! : nil)
                        }
                        var expected = reference(a, lda: lda, w, ldb: ldw, start: start, ldc: ldc, m: m, n: n, k: k,
                                                 transA: false, transB: true, accumulate: false)
                        if withBias { for i in 0..<m { for j in 0..<n { expected[i * ldc + j] += bias[j] } } }
                        assertClose(c, expected, rel: 1e-4, abs: 1e-4 * Float(k).squareRoot(),
                                    "own=\(own) threads=\(threads) m=\(m) n=\(n) k=\(k) bias=\(withBias)")
                    }
                }
            }
        }
    }

    /// The packed products (`cpu_kernels_sgemm`) called directly, in AVX2 tiles and, where the CPU
    /// has AVX-512, in 512-bit ones (12-row strips × pairs of the same 16-wide panels), so each is
    /// checked on every CPU that has it, not only where `BLAS` picks it. All four layouts; rows that
    /// end in a lone 6-row strip, a partial strip or both strips of a tile (1, 7, 13, 300), columns
    /// that end in a lone 16-wide panel or a partial one (17, 40, 61), k across the 256 block, m
    /// across the 168-row block, padded leading dimensions (C's padding must stay) and accumulation.
    func testPackedProductsCalledDirectly() throws {
        var widths: [Int32] = []
        if NativeKernels.supported { widths.append(0) }
        if NativeKernels.avx512Supported { widths.append(1) }
        try XCTSkipIf(widths.isEmpty, "this CPU has neither AVX2+FMA nor AVX-512")
        var generator = RandomGenerator(seed: 29)
        for wide in widths {
            // (m, k, n): edge strips and panels, k past one block (256), n past the 512-bit path's
            // B block (1,024 columns).
            let shapes = [(1, 5, 3), (7, 300, 17), (13, 70, 40), (300, 70, 61), (169, 513, 33), (12, 9, 32), (25, 37, 1090)]
            checkAllLayouts(shapes, generator: &generator, "wide=\(wide)") { transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate in
                let done = cpu_kernels_sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, a, lda, b, ldb, &c, ldc, accumulate ? 1 : 0, wide)
                XCTAssertEqual(done, 1, "wide=\(wide) m=\(m) k=\(k) n=\(n)")
            }
        }
    }

    func testGemmAccumulates() {
        let a: [Float] = [1, 2], b: [Float] = [3, 4]
        var c: [Float] = [10]
        BLAS.gemm(transA: false, transB: true, m: 1, n: 1, k: 2, a: a, lda: 2, b: b, ldb: 2, c: &c, ldc: 1, accumulate: true)
        XCTAssertEqual(c, [21])
    }

    func testThreadPoolRunsEveryTaskExactlyOnce() {
        let pool = ThreadPool(threadCount: 3)
        defer { pool.shutdown() }
        for round in 0..<200 {
            let n = 1 + round % 17
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: n)
            counts.initialize(repeating: 0, count: n)
            pool.run(n) { i in counts[i] += 1 }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: counts, count: n)), [Int](repeating: 1, count: n))
            counts.deallocate()
        }
    }

    func testNestedRunExecutesInline() {
        let pool = ThreadPool(threadCount: 2)
        defer { pool.shutdown() }
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 8)
        hits.initialize(repeating: 0, count: 8)
        pool.run(2) { outer in
            pool.run(4) { inner in hits[outer * 4 + inner] += 1 }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: hits, count: 8)), [Int](repeating: 1, count: 8))
        hits.deallocate()
    }

    /// Each task's ranges of `RowParts`, run on a pool of `threads`; `delayed` tasks sleep first.
    private func takenRanges(rows: Int, tasks: Int, rowBytes: Int, threads: Int, delayed: Set<Int> = []) -> [[Range<Int>]] {
        let pool = ThreadPool(threadCount: threads)
        defer { pool.shutdown() }
        final class Taken: @unchecked Sendable { var ranges: [[Range<Int>]] = [] }
        let taken = Taken()
        taken.ranges = Array(repeating: [], count: tasks)
        RowParts.with(count: tasks, rows: rows, rowBytes: rowBytes) { parts in
            pool.run(tasks) { i in
                if delayed.contains(i) { usleep(50_000) }
                parts.forEach(task: i) { taken.ranges[i].append($0) }
            }
        }
        return taken.ranges
    }

    func testRowPartsCoverEveryRowOnceOnLineBoundaries() {
        for rows in [1, 15, 16, 17, 100, 768, 1000, 3072, 50272] {
            for tasks in 1...4 {
                for rowBytes in [256, 3072, 12288] {
                    let ranges = takenRanges(rows: rows, tasks: tasks, rowBytes: rowBytes, threads: 3).flatMap { $0 }
                    let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
                    var next = 0
                    for r in sorted {
                        XCTAssertEqual(r.lowerBound, next, "rows \(rows) tasks \(tasks): a gap or an overlap at \(next)")
                        XCTAssertFalse(r.isEmpty)
                        XCTAssertEqual(r.lowerBound % 16, 0, "rows \(rows) tasks \(tasks): \(r) starts inside a line of y")
                        XCTAssertTrue(r.upperBound % 16 == 0 || r.upperBound == rows)
                        next = r.upperBound
                    }
                    XCTAssertEqual(next, rows, "rows \(rows) tasks \(tasks)")
                }
            }
        }
    }

    func testRowPartsOwnerTakesItsPartInOrderAndOthersTakeOverALateTask() {
        // Unhindered, each task takes its own part front to back, a chunk (64 KB of rows) at a time.
        let even = takenRanges(rows: 4096, tasks: 1, rowBytes: 3072, threads: 1)
        XCTAssertEqual(even[0].first, 0..<16)                 // 65536 / 3072 → 21 → 16 rows
        XCTAssertEqual(even[0].map(\.count).reduce(0, +), 4096)
        // A task that starts 50 ms late finds its part taken by the others.
        let late = takenRanges(rows: 50272, tasks: 2, rowBytes: 1536, threads: 2, delayed: [1])
        XCTAssertEqual(late[1], [])
        XCTAssertEqual(late[0].map(\.count).reduce(0, +), 50272)
        XCTAssertEqual(late[0].first, 0..<32)                 // its own part first, from the front
        // then the upper half of the rest, a chunk at a time (it became task 0's part)
        XCTAssertEqual(late[0].filter { $0.lowerBound >= 25136 }.first, 37696..<37728)
        // Whole parts (the AVX-512 compact kernels): a task that starts on time takes its part in
        // one range, as the fixed halves did.
        var first: [Range<Int>] = []
        RowParts.with(count: 2, rows: 50272, rowBytes: 1536, wholeParts: true) { parts in
            for task in [1, 0] {
                var start = 0, end = 0
                XCTAssertEqual(cpu_kernels_row_parts_take(parts.words, 2, task, parts.chunk, &start, &end), 1)
                first.append(start..<end)
            }
        }
        XCTAssertEqual(first, [25136..<50272, 0..<25136])
    }

    func testRowPartsStolenRowsCanBeTakenBack() {
        // Two parts of 4096 rows, 16 rows a chunk; taken from one thread to fix the order.
        RowParts.with(count: 2, rows: 4096, rowBytes: 4096) { parts in
            XCTAssertEqual(parts.chunk, 16)
            func take(_ task: Int) -> Range<Int>? {
                var start = 0, end = 0
                return cpu_kernels_row_parts_take(parts.words, 2, task, parts.chunk, &start, &end) != 0 ? start..<end : nil
            }
            // Task 0 empties its part, then steals the upper half of task 1's: one chunk now, the
            // rest published as its own part.
            for _ in 0..<(2048 / 16) { XCTAssertLessThan(take(0)!.upperBound, 2049) }
            XCTAssertEqual(take(0), 3072..<3088)
            // Task 1 takes its front, then, empty, half of what task 0 holds of the stolen rows.
            for _ in 0..<((3072 - 2048) / 16) { XCTAssertLessThan(take(1)!.upperBound, 3073) }
            XCTAssertEqual(take(1), 3584..<3600)
            // Every row once, whatever order the rest goes in.
            var seen = Set(0..<3088).union(3584..<3600)
            while let r = take(0) ?? take(1) {
                XCTAssertTrue(seen.isDisjoint(with: Set(r)), "\(r) taken twice")
                seen.formUnion(r)
            }
            XCTAssertEqual(seen.count, 4096)
        }
    }
}
