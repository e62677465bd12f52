import CBLAS

/// The bridge to OpenBLAS, and the one place that decides how a product is computed.
///
/// OpenBLAS itself runs single-threaded; we split work over `Threads.shared`, so the process has one
/// pool of threads and no oversubscription. One-row products go to `sgemv`: OpenBLAS's `sgemm` with
/// M = 1 is 3–20× slower (DESIGN.md §5).
public enum BLAS {
    /// Sets OpenBLAS's own thread count. The pool calls this with 1; the kernel benchmark raises it
    /// to compare against OpenBLAS's own threading.
    public static func setOpenBLASThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
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
        let ta = transA ? CblasTrans : CblasNoTrans
        let tb = transB ? CblasTrans : CblasNoTrans
        let pool = Threads.shared
        let work = m * n * k
        let tasks = work < 1 << 18 ? 1 : pool.threadCount
        if tasks == 1 {
            cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
            return
        }
        // Split the longer side of C into equal blocks (multiples of 16), one per thread.
        let splitRows = m >= n
        let extent = splitRows ? m : n
        let block = (extent + tasks - 1) / tasks
        let aligned = (block + 15) / 16 * 16
        let blocks = (extent + aligned - 1) / aligned
        pool.run(blocks) { i in
            let start = i * aligned
            let size = min(aligned, extent - start)
            if splitRows {
                let aBlock = transA ? a + start : a + start * lda
                cblas_sgemm(CblasRowMajor, ta, tb, Int32(size), Int32(n), Int32(k), 1, aBlock, Int32(lda), b, Int32(ldb), beta, c + start * ldc, Int32(ldc))
            } else {
                let bBlock = transB ? b + start * ldb : b + start
                cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(size), Int32(k), 1, a, Int32(lda), bBlock, Int32(ldb), beta, c + start, Int32(ldc))
            }
        }
    }

    /// `y[rows] = M[rows,cols]·x (+ beta·y)`, rows split across threads (each block is contiguous).
    static func gemvRows(
        rows: Int, cols: Int, matrix: UnsafePointer<Float>, ld: Int,
        x: UnsafePointer<Float>, incX: Int, y: UnsafeMutablePointer<Float>, incY: Int, beta: Float
    ) {
        let pool = Threads.shared
        let tasks = rows * cols < 1 << 16 ? 1 : pool.threadCount
        let block = ((rows + tasks - 1) / tasks + 15) / 16 * 16
        let blocks = (rows + block - 1) / block
        pool.run(blocks) { i in
            let start = i * block
            let size = min(block, rows - start)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(size), Int32(cols), 1, matrix + start * ld, Int32(ld),
                        x, Int32(incX), beta, y + start * incY, Int32(incY))
        }
    }

    /// `y[cols] = xᵀ·M[rows,cols] (+ beta·y)`, columns split across threads.
    static func gemvColumns(
        rows: Int, cols: Int, matrix: UnsafePointer<Float>, ld: Int,
        x: UnsafePointer<Float>, incX: Int, y: UnsafeMutablePointer<Float>, incY: Int = 1, beta: Float
    ) {
        let pool = Threads.shared
        let tasks = rows * cols < 1 << 16 ? 1 : pool.threadCount
        let block = ((cols + tasks - 1) / tasks + 15) / 16 * 16
        let blocks = (cols + block - 1) / block
        pool.run(blocks) { i in
            let start = i * block
            let size = min(block, cols - start)
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(rows), Int32(size), 1, matrix + start, Int32(ld),
                        x, Int32(incX), beta, y + start * incY, Int32(incY))
        }
    }
}
