#if canImport(CBLAS)
import CBLAS
#endif

/// Thin bridge over OpenBLAS. OpenBLAS runs single-threaded: parallelism is ours (`ThreadPool`),
/// so there is one pool of threads and no oversubscription.
public enum BLAS {
    /// Pins OpenBLAS's own threading (used by the benchmark to compare against OpenBLAS direct).
    public static func setOpenBLASThreads(_ n: Int) {
        openblas_set_num_threads(Int32(n))
    }
}
