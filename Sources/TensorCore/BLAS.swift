#if canImport(Accelerate)
import Accelerate   // macOS: the same cblas_* interface (see BLAS.swift)
#else
import CBLAS
#endif
import CPUKernels

/// The bridge to the BLAS, and the one place that decides how a product is computed.
///
/// Products of many rows run on our own sgemm where that is the best kernel the machine has
/// (`usesOwnSgemm`; AVX2 tiles, or 512-bit ones where the CPU runs them at full width), else on
/// the BLAS's, which also takes small ones where its AVX-512 kernels run at full width. Either
/// runs single-threaded; we split work over `Threads.shared`, so the process has one pool of
/// threads and no oversubscription. One-row products go to a gemv (OpenBLAS's `sgemm` with M = 1 is 3–20×
/// slower, DESIGN.md §5): M·x with x contiguous to ours (`cpu_kernels_f32_gemv_rows`) where the
/// CPU has AVX2+FMA, else `sgemv`.
///
/// On macOS the same `cblas_sgemm`/`cblas_sgemv` calls go to Accelerate (the only macOS-specific
/// code is the import and the thread setting below). It is not tested by CI, which runs on Linux.
public enum BLAS {
    /// Sets OpenBLAS's own thread count. The pool calls this with 1; the kernel benchmark raises it
    /// to compare against OpenBLAS's own threading. Accelerate schedules its own threads, so on
    /// macOS this does nothing.
    public static func setOpenBLASThreads(_ n: Int) {
        #if !canImport(Accelerate)
        openblas_set_num_threads(Int32(max(1, n)))
        #endif
    }

    static func useSingleThreadedOpenBLAS() { setOpenBLASThreads(1) }

    /// Row-major `C[m,n] = A·B (+ C when accumulate)` where `A` is `[m,k]` (or `[k,m]` when
    /// `transA`) and `B` is `[k,n]` (or `[n,k]` when `transB`). Leading dimensions are the row
    /// lengths of the stored matrices (`lda` = k, or m when transposed; likewise for B).
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false
    ) {
        guard m > 0, n > 0 else { return }
        let beta: Float = accumulate ? 1 : 0
        guard k > 0 else {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        if m == 1 {
            // c[1,n] = a[1,k]·B: a is a vector with stride 1 (or lda when A is stored transposed).
            let incA = transA ? lda : 1
            if transB {
                gemvRows(rows: n, cols: k, matrix: b, ld: ldb, x: a, incX: incA, y: c, incY: 1, beta: beta)
            } else {
                gemvColumns(rows: k, cols: n, matrix: b, ld: ldb, x: a, incX: incA, y: c, beta: beta)
            }
            return
        }
        if n == 1 {
            // c[m,1] = A·b: b is a vector with stride 1 when transB (stored [1,k]) else ldb.
            let incB = transB ? 1 : ldb
            if transA {
                gemvColumns(rows: k, cols: m, matrix: a, ld: lda, x: b, incX: incB, y: c, incY: ldc, beta: beta)
            } else {
                gemvRows(rows: m, cols: k, matrix: a, ld: lda, x: b, incX: incB, y: c, incY: ldc, beta: beta)
            }
            return
        }
        manyRows(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                 accumulate: accumulate, bias: nil)
    }

    /// `gemm` with m, n ≥ 2 and k ≥ 1, and `bias` (nil: none) added to every row of C: our shared few-rows
    /// path adds it as C is stored; elsewhere each task writes it into its own block of C first, so
    /// the lines stay with the thread that then accumulates into them (at 512 rows a copy of the
    /// bias on the caller before the product took 4 % of OPT-125m's prefill).
    private static func manyRows(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                 b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                                 accumulate: Bool, bias: UnsafePointer<Float>?) {
        let pool = Threads.shared
        let work = m * n * k
        let tasks = work < 1 << 18 ? 1 : pool.threadCount
        let own = usesOwnSgemm
        if !transA, transB, own, sharedWeightRows(m: m, n: n, k: k, a: a, lda: lda, w: b, ldw: ldb, c: c, ldc: ldc,
                                                   accumulate: accumulate, bias: bias, tasks: tasks) {
            return
        }
        let beta: Float = accumulate || bias != nil ? 1 : 0
        if tasks == 1 {
            if let bias { addBias(bias, rows: 0..<m, columns: 0..<n, c: c, ldc: ldc, accumulate: accumulate) }
            sgemm(own: own, transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, beta: beta)
            return
        }
        // Split the longer side of C into equal blocks (multiples of 16), one per thread.
        let splitRows = m >= n
        let extent = splitRows ? m : n
        let block = ((extent + tasks - 1) / tasks + 15) / 16 * 16
        var args = GemmBlocks(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                              c: c, ldc: ldc, beta: beta, splitRows: splitRows, block: block, own: own, bias: bias,
                              accumulate: accumulate)
        pool.run((extent + block - 1) / block, context: &args) { context, i in
            let g = context!.assumingMemoryBound(to: GemmBlocks.self).pointee
            let start = i * g.block
            if g.splitRows {
                let size = min(g.block, g.m - start)
                if let bias = g.bias { BLAS.addBias(bias, rows: start..<(start + size), columns: 0..<g.n, c: g.c, ldc: g.ldc, accumulate: g.accumulate) }
                let aBlock = g.transA ? g.a + start : g.a + start * g.lda
                BLAS.sgemm(own: g.own, transA: g.transA, transB: g.transB, m: size, n: g.n, k: g.k, a: aBlock, lda: g.lda,
                      b: g.b, ldb: g.ldb, c: g.c + start * g.ldc, ldc: g.ldc, beta: g.beta)
            } else {
                let size = min(g.block, g.n - start)
                if let bias = g.bias { BLAS.addBias(bias, rows: 0..<g.m, columns: start..<(start + size), c: g.c, ldc: g.ldc, accumulate: g.accumulate) }
                let bBlock = g.transB ? g.b + start * g.ldb : g.b + start
                BLAS.sgemm(own: g.own, transA: g.transA, transB: g.transB, m: g.m, n: size, k: g.k, a: g.a, lda: g.lda,
                      b: bBlock, ldb: g.ldb, c: g.c + start, ldc: g.ldc, beta: g.beta)
            }
        }
    }

    /// Whether products of many rows run on our sgemm (`CPUKernels/SGEMM.c`) instead of the BLAS's.
    public static var usesOwnSgemm: Bool { NativeKernels.enabled && ownSgemmSuitsThisMachine }

    /// The part of the rule that cannot change while the process runs (asked once: it reads /proc).
    private static let ownSgemmSuitsThisMachine =
        prefersOwnSgemm(nativeKernels: true, wideKernels: NativeKernels.avx512, blasCore: BLASCore.coreName, cpu: CPUFeatures.current())

    /// The rule behind `usesOwnSgemm`: ours where the CPU has AVX2+FMA (and
    /// `SENTENCEVAE_PORTABLE_KERNELS` is not set). In 512-bit tiles (`wideKernels`, where the CPU
    /// runs them at full width) ours is level with or ahead of OpenBLAS's SkylakeX kernels: Intel
    /// Emerald Rapids, medians of 20 alternating rounds 1.00–1.13× at the shapes of training, 85–90 %
    /// of the FMA peak, level in whole training steps (BENCHMARKS.md); and it does not depend on the
    /// OpenBLAS build. In AVX2 tiles ours gives way only to AVX-512 kernels of the BLAS on a CPU
    /// that runs them at full width (twice our FMA peak): there (`SENTENCEVAE_AVX2_KERNELS=1` on
    /// such a CPU) OpenBLAS keeps the products. On AMD Zen 3
    /// ("Zen", AVX2 kernels) and Zen 4 (where OpenBLAS picks its AVX-512 "Cooperlake" kernels, but
    /// the cores split them in halves) ours takes them: 1.02–1.65× OpenBLAS's on Zen 4, 85–93 % of the
    /// FMA peak at the shapes of prefill and training. Unknown CPU facts count as full width. Never
    /// on macOS (`blasCore` nil there): Accelerate is the BLAS to use.
    static func prefersOwnSgemm(nativeKernels: Bool, wideKernels: Bool, blasCore: String?, cpu: CPUFeatures?) -> Bool {
        #if canImport(Accelerate)
        return false
        #else
        guard nativeKernels else { return false }
        if wideKernels { return true }
        return !blasRunsFullWidthAVX512(blasCore: blasCore, cpu: cpu)
        #endif
    }

    /// Whether the BLAS runs AVX-512 kernels (`blasCore` of tier 4 or more) on a CPU that executes
    /// them at full width; unknown CPU facts count as full width. Both rules above and below ask it.
    static func blasRunsFullWidthAVX512(blasCore: String?, cpu: CPUFeatures?) -> Bool {
        guard let core = blasCore, let tier = BLASCore.tier(core), tier >= 4 else { return false }
        return cpu?.runsAVX512AtFullWidth ?? true
    }

    /// `blasRunsFullWidthAVX512` on this machine (asked once: it reads /proc).
    private static let blasIsFullWidthAVX512Here = blasRunsFullWidthAVX512(blasCore: BLASCore.coreName, cpu: CPUFeatures.current())

    /// Whether a small product that our packed path would take goes to the BLAS instead: where the
    /// BLAS runs AVX-512 kernels at full width, its small-matrix code beats our packing below about
    /// a million multiply-adds (attention's per-head products in training, 24–96 rows: ours
    /// 0.47–0.78× OpenBLAS's on Intel Emerald Rapids; level from 128×128×64). A Linear weight against
    /// at most 256 rows stays ours: that tile reads the weight in place (0.95–1.2× at 48–64 rows),
    /// as SGEMM.c decides (`cpu_kernels_sgemm_reads_weight_in_place`).
    static func smallProductGoesToBLAS(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, blasFullWidthAVX512: Bool) -> Bool {
        guard blasFullWidthAVX512, cpu_kernels_sgemm_reads_weight_in_place(transA ? 1 : 0, transB ? 1 : 0, m, k) == 0 else {
            return false
        }
        return m * n * k < 1 << 20
    }

    /// `C[m,n] = A[m,k]·W[n,k]ᵀ (+ C)` on the calling thread alone, by whichever kernel `gemm`
    /// would use: for callers that split the work over the pool themselves (compact-weight tiles).
    static func singleThreadLinear(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, w: UnsafePointer<Float>,
                                   ldw: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        singleThreadGemm(transA: false, transB: true, m: m, n: n, k: k, a: a, lda: lda, b: w, ldb: ldw, c: c, ldc: ldc,
                         accumulate: accumulate)
    }

    /// `gemm` of many rows (m, n, k ≥ 1) on the calling thread alone, by the kernel `gemm` would use
    /// for it: for work the caller already spreads over the pool (attention's heads, compact tiles).
    public static func singleThreadGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                                        accumulate: Bool = false) {
        guard m > 0, n > 0, k > 0 else { return }
        sgemm(own: usesOwnSgemm, transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c,
              ldc: ldc, beta: accumulate ? 1 : 0)
    }

    /// One thread's product: `C = op(A)·op(B) + beta·C` with `beta` 0 or 1.
    private static func sgemm(
        own: Bool, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float
    ) {
        // Ours returns 0 only when its packing buffers could not be allocated. In 512-bit tiles where
        // the CPU runs them at full width (`NativeKernels.avx512`).
        if own, !smallProductGoesToBLAS(m: m, n: n, k: k, transA: transA, transB: transB, blasFullWidthAVX512: blasIsFullWidthAVX512Here),
           cpu_kernels_sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, a, lda, b, ldb, c, ldc, beta == 0 ? 0 : 1,
                                  NativeKernels.avx512 ? 1 : 0) != 0 {
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n),
                    Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// A Linear layer, `c[m,n] = a[m,k]·w[n,k]ᵀ + bias` (bias nil: none), by `gemm`'s rules. The
    /// bias goes in as C is stored (our few-rows path) or by the task that owns each block of C,
    /// not copied into every row by the caller first: at 64 rows that copy cost 3.5 % of the
    /// prefill, because the worker had written C's lines last.
    public static func linear(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, w: UnsafePointer<Float>, ldw: Int,
                              c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?) {
        guard m > 0, n > 0 else { return }
        if m > 1, n > 1, k > 0 {
            manyRows(transA: false, transB: true, m: m, n: n, k: k, a: a, lda: lda, b: w, ldb: ldw, c: c, ldc: ldc,
                     accumulate: false, bias: bias)
            return
        }
        if let bias { for r in 0..<m { (c + r * ldc).update(from: bias, count: n) } }
        gemm(transA: false, transB: true, m: m, n: n, k: k, a: a, lda: lda, b: w, ldb: ldw, c: c, ldc: ldc, accumulate: bias != nil)
    }

    /// Columns `columns` of C's rows `rows` set to the bias (added to them when `accumulate`).
    private static func addBias(_ bias: UnsafePointer<Float>, rows: Range<Int>, columns: Range<Int>, c: UnsafeMutablePointer<Float>,
                                ldc: Int, accumulate: Bool) {
        for r in rows {
            let row = c + r * ldc + columns.lowerBound, b = bias + columns.lowerBound
            if accumulate { Kernels.add(row, b, row, count: columns.count) } else { row.update(from: b, count: columns.count) }
        }
    }

    /// A Linear weight against few rows on `tasks` threads that take its rows in shrinking shares
    /// from a counter (`cpu_kernels_sgemm_weight_rows_shared`) instead of in equal halves, so that
    /// the caller does not wait for a worker that started later or reads slower. False where that
    /// path does not take the product (then nothing was done).
    private static func sharedWeightRows(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, w: UnsafePointer<Float>,
                                         ldw: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                                         bias: UnsafePointer<Float>?, tasks: Int) -> Bool {
        guard cpu_kernels_sgemm_reads_weight_in_place(0, 1, m, k) != 0,
              !smallProductGoesToBLAS(m: m, n: n, k: k, transA: false, transB: true, blasFullWidthAVX512: blasIsFullWidthAVX512Here)
        else { return false }
        return shareRows(SharedRows(m: m, n: n, k: k, a: a, lda: lda, w: w, ldw: ldw, widen: nil, context: nil, c: c, ldc: ldc,
                                    accumulate: accumulate ? 1 : 0, bias: bias, threads: tasks), tasks: tasks)
    }

    /// Widens weight rows `start ..< end` to fp32, one after another at `out` (`context` is the caller's).
    public typealias WidenRows = @convention(c) (UnsafeMutableRawPointer?, Int, Int, UnsafeMutablePointer<Float>?) -> Void

    /// `c[m,n] = a[m,k]·Wᵀ + bias` for a weight kept compact, on the pool's threads: each packs A once
    /// and takes 48 weight rows at a time, widened by `widen` into its buffers
    /// (`cpu_kernels_sgemm_widened_rows_shared`). False where that path does not take the product
    /// (not our sgemm, too many rows, a row too long for the buffers); then nothing was done.
    static func widenedLinear(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, widen: WidenRows,
                              context: UnsafeMutableRawPointer, c: UnsafeMutablePointer<Float>, ldc: Int,
                              bias: UnsafePointer<Float>?) -> Bool {
        guard n > 0, takesWidenedRows(m: m, k: k) else { return false }
        let tasks = m * n * k < 1 << 18 ? 1 : Threads.shared.threadCount
        return shareRows(SharedRows(m: m, n: n, k: k, a: a, lda: lda, w: nil, ldw: 0, widen: widen, context: context, c: c,
                                    ldc: ldc, accumulate: 0, bias: bias, threads: tasks), tasks: tasks)
    }

    /// Whether `widenedLinear` takes a product of `m` rows of length `k` (our sgemm's few-rows path).
    static func takesWidenedRows(m: Int, k: Int) -> Bool {
        m > 1 && k > 0 && usesOwnSgemm && cpu_kernels_sgemm_reads_weight_in_place(0, 1, m, k) != 0
    }

    /// Runs a shared few-row product (`rows.widen` nil: the weight `rows.w` read in place) on
    /// `tasks` threads, sharing one counter of rows taken.
    private static func shareRows(_ rows: SharedRows, tasks: Int) -> Bool {
        var next = 0
        return withUnsafeMutablePointer(to: &next) { counter in
            var args = (rows: rows, next: counter)
            Threads.shared.run(tasks, context: &args) { context, _ in
                let (s, next) = context!.assumingMemoryBound(to: (rows: SharedRows, next: UnsafeMutablePointer<Int>).self).pointee
                let wide: Int32 = NativeKernels.avx512 ? 1 : 0
                if let widen = s.widen {
                    _ = cpu_kernels_sgemm_widened_rows_shared(s.m, s.n, s.k, s.a, s.lda, widen, s.context, s.c, s.ldc, s.accumulate,
                                                              s.bias, wide, 48, next)
                } else {
                    _ = cpu_kernels_sgemm_weight_rows_shared(s.m, s.n, s.k, s.a, s.lda, s.w, s.ldw, s.c, s.ldc, s.accumulate, s.bias,
                                                             wide, s.threads, 48, next)
                }
            }
            return counter.pointee != 0   // some thread took the rows, so all of them are done
        }
    }

    /// Arguments of `shareRows`'s tasks, passed by pointer (no allocation). Shares are multiples of
    /// 48 rows: a whole number of every tile's weight rows.
    private struct SharedRows {
        let m, n, k: Int
        let a: UnsafePointer<Float>, lda: Int
        let w: UnsafePointer<Float>?, ldw: Int
        let widen: WidenRows?
        let context: UnsafeMutableRawPointer?
        let c: UnsafeMutablePointer<Float>, ldc: Int
        let accumulate: Int32
        let bias: UnsafePointer<Float>?
        let threads: Int
    }

    /// Arguments of a threaded sgemm, passed to the pool's tasks by pointer (no allocation).
    private struct GemmBlocks {
        let transA, transB: Bool
        let m, n, k: Int
        let a: UnsafePointer<Float>, lda: Int
        let b: UnsafePointer<Float>, ldb: Int
        let c: UnsafeMutablePointer<Float>, ldc: Int
        let beta: Float
        let splitRows: Bool
        let block: Int
        let own: Bool
        let bias: UnsafePointer<Float>?
        let accumulate: Bool
    }

    /// Arguments of a threaded sgemv: `y = op(M)·x (+ beta·y)` over blocks of `y`.
    private struct GemvBlocks {
        let transposed: Bool
        let rows, cols: Int
        let matrix: UnsafePointer<Float>, ld: Int
        let x: UnsafePointer<Float>, incX: Int
        let y: UnsafeMutablePointer<Float>, incY: Int
        let beta: Float
        let block: Int
        /// M·x with x contiguous on our AVX2 kernel (`cpu_kernels_f32_gemv_rows`): it reads each
        /// row as one stream, where OpenBLAS's sgemv, interleaving rows, reached 55–65 % of the read
        /// rate on AMD Zen 4 (BENCHMARKS.md).
        var own = false
        /// The kernel's AVX-512 version (`KernelChoice.rowKernel`), read once per product.
        var wide: Int32 = 0
        /// Our kernel's rows, shared so that no thread waits on a slower one (`RowParts`).
        var parts: RowParts? = nil
    }

    /// Splits `y` (length `rows` for M·x, `cols` for xᵀ·M) into blocks of 16-multiples across threads;
    /// our kernel's rows are shared through `RowParts` instead.
    private static func gemv(_ args: GemvBlocks) {
        let outputs = args.transposed ? args.cols : args.rows, kernel = KernelChoice.current.rowKernel(for: .f32)
        var args = args
        let tasks = args.rows * args.cols < 1 << 16 ? 1 : Threads.shared.threadCount
        let block = ((outputs + tasks - 1) / tasks + 15) / 16 * 16
        args = GemvBlocks(transposed: args.transposed, rows: args.rows, cols: args.cols, matrix: args.matrix, ld: args.ld,
                          x: args.x, incX: args.incX, y: args.y, incY: args.incY, beta: args.beta, block: block,
                          own: !args.transposed && args.incX == 1 && kernel != .portable, wide: kernel == .avx512 ? 1 : 0)
        if args.own && tasks > 1 {
            RowParts.with(count: tasks, rows: args.rows, rowBytes: 4 * args.cols) { parts in
                args.parts = parts
                Threads.shared.run(tasks, context: &args) { context, i in
                    let g = context!.assumingMemoryBound(to: GemvBlocks.self).pointee
                    g.parts!.forEach(task: i) { range in
                        cpu_kernels_f32_gemv_rows(g.matrix, g.ld, g.cols, range.lowerBound, range.upperBound, g.x, g.y, g.incY,
                                                  g.beta == 0 ? 0 : 1, g.wide)
                    }
                }
            }
            return
        }
        Threads.shared.run((outputs + block - 1) / block, context: &args) { context, i in
            let g = context!.assumingMemoryBound(to: GemvBlocks.self).pointee
            let start = i * g.block
            if g.transposed {
                let size = min(g.block, g.cols - start)
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(g.rows), Int32(size), 1, g.matrix + start, Int32(g.ld),
                            g.x, Int32(g.incX), g.beta, g.y + start * g.incY, Int32(g.incY))
            } else if g.own {
                let end = min(start + g.block, g.rows)
                cpu_kernels_f32_gemv_rows(g.matrix, g.ld, g.cols, start, end, g.x, g.y, g.incY, g.beta == 0 ? 0 : 1, g.wide)
            } else {
                let size = min(g.block, g.rows - start)
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(size), Int32(g.cols), 1, g.matrix + start * g.ld, Int32(g.ld),
                            g.x, Int32(g.incX), g.beta, g.y + start * g.incY, Int32(g.incY))
            }
        }
    }

    /// `y[rows] = M[rows,cols]·x (+ beta·y)`, rows split across threads (each block is contiguous).
    static func gemvRows(
        rows: Int, cols: Int, matrix: UnsafePointer<Float>, ld: Int,
        x: UnsafePointer<Float>, incX: Int, y: UnsafeMutablePointer<Float>, incY: Int, beta: Float
    ) {
        gemv(GemvBlocks(transposed: false, rows: rows, cols: cols, matrix: matrix, ld: ld, x: x, incX: incX,
                        y: y, incY: incY, beta: beta, block: 0))
    }

    /// `y[cols] = xᵀ·M[rows,cols] (+ beta·y)`, columns split across threads.
    static func gemvColumns(
        rows: Int, cols: Int, matrix: UnsafePointer<Float>, ld: Int,
        x: UnsafePointer<Float>, incX: Int, y: UnsafeMutablePointer<Float>, incY: Int = 1, beta: Float
    ) {
        gemv(GemvBlocks(transposed: true, rows: rows, cols: cols, matrix: matrix, ld: ld, x: x, incX: incX,
                        y: y, incY: incY, beta: beta, block: 0))
    }
}
