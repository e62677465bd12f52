#if canImport(Accelerate)
import Accelerate   // macOS: the same cblas_* interface (see BLAS.swift)
#else
import CBLAS
#endif
import Foundation

/// Which OpenBLAS kernels ("core") run our products, whether they are the best the CPU has, and
/// whether they compute correctly.
///
/// Why: Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not recognise Intel Sapphire Rapids and runs
/// its SSE3 "Prescott" kernels there, 4–6× slower than its AVX-512 "SkylakeX" ones; and some
/// OpenBLAS builds compute wrong results on some CPUs. OpenBLAS reads `OPENBLAS_CORETYPE` once,
/// when the library is loaded (before `main`), so a process cannot change its own kernels: the
/// decisions here are pure functions of (the core OpenBLAS picked, the CPU's facts, the
/// environment), and the command-line tool acts on them by re-executing itself with the variable
/// set (`sentencevae`'s `BLASStartup`). A user's own `OPENBLAS_CORETYPE` always wins.
public enum BLASCore {
    /// Set by the command-line tool when it re-executes itself: the cores it has set so far,
    /// comma-separated (so it can never loop). Its last entry equal to `OPENBLAS_CORETYPE` means
    /// the variable is ours, not the user's.
    public static let guardVariable = "SENTENCEVAE_BLAS_CORES_TRIED"
    public static let coreTypeVariable = "OPENBLAS_CORETYPE"

    /// The kernel set OpenBLAS chose when it was loaded (`openblas_get_corename()`), or nil when the
    /// linked BLAS is not OpenBLAS.
    public static var coreName: String? {
        #if canImport(Accelerate)
        return nil
        #else
        guard let name = svae_blas_corename() else { return nil }
        return String(cString: name)
        #endif
    }

    /// OpenBLAS's x86-64 core names (0.3.21's `corename[]` in driver/others/dynamic.c) by the widest
    /// vector instructions their kernels use: 0 SSE…SSE3, 1 SSE4.2, 2 AVX, 3 AVX2+FMA, 4 AVX-512.
    /// Names not listed (other architectures) are never acted on.
    static let tiers: [String: Int] = {
        var t: [String: Int] = [:]
        for name in ["unknown", "katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2", "penryn",
                     "dunnington", "athlon", "opteron", "opteron_sse3", "barcelona", "nano", "bobcat"] { t[name] = 0 }
        t["nehalem"] = 1
        for name in ["sandybridge", "bulldozer", "piledriver", "steamroller", "excavator"] { t[name] = 2 }
        for name in ["haswell", "zen"] { t[name] = 3 }
        for name in ["skylakex", "cooperlake", "sapphirerapids"] { t[name] = 4 }
        return t
    }()

    static func tier(_ core: String) -> Int? { tiers[core.lowercased()] }

    /// The `OPENBLAS_CORETYPE` this CPU should use when OpenBLAS picked `picked`, or nil when the
    /// pick is already as good as the CPU allows (or is not an x86-64 core we know).
    ///
    /// - AVX-512 F/CD/BW/DQ/VL on a non-AMD CPU → "SkylakeX". Not "Cooperlake" even with
    ///   `avx512_bf16`: 0.3.21 accepts the name, but its sgemm kernels are SkylakeX's and what it adds
    ///   (`sbgemm`) is not exported by Debian's build; SkylakeX is the one measured correct and fast
    ///   on Sapphire Rapids (DESIGN.md §5).
    /// - AVX2+FMA → "Haswell" ("Zen" on AMD: the same kernels in 0.3.21). AMD that OpenBLAS already
    ///   runs as "Zen" is left alone, AVX-512 or not.
    /// - AVX only → "Sandybridge".
    public static func preferredCoreType(picked: String, facts: CPUFeatures) -> String? {
        guard let current = tier(picked) else { return nil }
        let target: String
        if facts.hasSkylakeXAVX512 && !facts.isAMD {
            target = "SkylakeX"
        } else if facts.hasAVX2FMA {
            target = facts.isAMD ? "Zen" : "Haswell"
        } else if facts.has("avx") {
            target = "Sandybridge"
        } else {
            return nil
        }
        return tier(target)! > current ? target : nil
    }

    /// A safer core after `failing` computed a wrong product: AVX-512 kernels → "Haswell" when the
    /// CPU has AVX2+FMA, anything else → "Prescott" (SSE3, slow but the most widely exercised);
    /// nil when even Prescott failed or the core is not one we know.
    public static func fallbackCoreType(failing: String, facts: CPUFeatures?) -> String? {
        guard let current = tier(failing), current > 0 else { return nil }
        if current >= 4, facts?.hasAVX2FMA == true { return "Haswell" }
        return "Prescott"
    }

    // MARK: - Self-check

    /// Row-major `C = op(A)·op(B)` with `alpha` 1 and `beta` 0, the shape of `cblas_sgemm`.
    public typealias Gemm = (_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                             _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                             _ c: UnsafeMutablePointer<Float>, _ ldc: Int) -> Void

    /// OpenBLAS's `cblas_sgemm`, called directly on this thread.
    public static let openBLASGemm: Gemm = { transA, transB, m, n, k, a, lda, b, ldb, c, ldc in
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
    }

    public struct SelfCheckResult: Sendable {
        public let passed: Bool
        /// The largest |C − reference| / Σₚ|aᵢₚ·bₚⱼ| over all elements and products.
        public let maxRelativeError: Double
    }

    /// Two products with awkward sizes (61×53×47, primes: no kernel's unrolling divides them), padded
    /// leading dimensions and both transposes, against a plain triple loop in Double. Each element's
    /// error is measured against Σ|a·b| of its row and column, so cancellation cannot fail a correct
    /// product; `tolerance` 1e-5 is ~100× what fp32 rounding gives at K = 47. Well under a millisecond in
    /// a release build.
    public static func selfCheck(tolerance: Double = 1e-5, gemm: Gemm = openBLASGemm) -> SelfCheckResult {
        let m = 61, n = 53, k = 47, pad = 3
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
        var worst = 0.0
        for (transA, transB) in [(false, true), (true, false)] {
            // Stored shapes: A is [m,k] or [k,m]; B is [k,n] or [n,k]; each row padded by `pad`.
            let aRows = transA ? k : m, aCols = transA ? m : k, lda = aCols + pad
            let bRows = transB ? n : k, bCols = transB ? k : n, ldb = bCols + pad
            let ldc = n + pad
            let a = (0..<(aRows * lda)).map { _ in next() }
            let b = (0..<(bRows * ldb)).map { _ in next() }
            var c = [Float](repeating: .nan, count: m * ldc)
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        gemm(transA, transB, m, n, k, a.baseAddress!, lda, b.baseAddress!, ldb, c.baseAddress!, ldc)
                    }
                }
            }
            // Raw pointers and strides: the check runs at every start-up, debug builds included.
            let strideA = transA ? lda : 1, rowA = transA ? 1 : lda
            let strideB = transB ? 1 : ldb, columnB = transB ? ldb : 1
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    let a = a.baseAddress!, b = b.baseAddress!
                    for i in 0..<m {
                        for j in 0..<n {
                            var sum = 0.0, magnitude = 0.0
                            var pa = a + i * rowA, pb = b + j * columnB
                            for _ in 0..<k {
                                let product = Double(pa.pointee) * Double(pb.pointee)
                                sum += product
                                magnitude += abs(product)
                                pa += strideA
                                pb += strideB
                            }
                            let error = abs(Double(c[i * ldc + j]) - sum) / max(magnitude, 1e-30)
                            worst = max(worst, error.isNaN ? .infinity : error)
                        }
                    }
                }
            }
        }
        return SelfCheckResult(passed: worst <= tolerance, maxRelativeError: worst)
    }

    // MARK: - What to do at start-up

    public enum StartupAction: Equatable, Sendable {
        /// Keep the kernels loaded now; print `warning` to stderr when there is one.
        case keep(warning: String?)
        /// Re-execute with `OPENBLAS_CORETYPE=coreType` and `guardVariable=tried`, printing `warning`
        /// (if any) first.
        case reexec(coreType: String, tried: String, warning: String?)
    }

    /// Where the core in use came from.
    public enum CoreOrigin: String, Sendable {
        case openBLAS = "OpenBLAS's own detection"
        case sentencevae = "chosen by sentencevae at start-up (OPENBLAS_CORETYPE overrides)"
        case user = "OPENBLAS_CORETYPE set by the user"
    }

    static func tried(_ environment: [String: String]) -> [String] {
        (environment[guardVariable] ?? "").split(separator: ",").map(String.init)
    }

    public static func coreOrigin(environment: [String: String]) -> CoreOrigin {
        guard let set = environment[coreTypeVariable], !set.isEmpty else { return .openBLAS }
        return tried(environment).last == set ? .sentencevae : .user
    }

    /// The whole start-up decision, pure but for `selfCheck`, which runs only when needed.
    ///
    /// - `OPENBLAS_CORETYPE` set by the user: kept; a failed self-check only warns.
    /// - Otherwise, when nothing was tried yet and the CPU has better kernels than `picked`:
    ///   re-execute with them.
    /// - Otherwise, when the self-check fails: re-execute with `fallbackCoreType`, with a warning.
    /// Never to a core already tried, and at most three re-executions in all.
    public static func startupAction(environment: [String: String], picked: String?, facts: CPUFeatures?,
                                     selfCheck: () -> SelfCheckResult) -> StartupAction {
        guard let picked else { return .keep(warning: nil) }  // not OpenBLAS
        let tried = tried(environment)
        func reexec(_ core: String, _ warning: String?) -> StartupAction? {
            guard tried.count < 3, !tried.contains(where: { $0.caseInsensitiveCompare(core) == .orderedSame }) else { return nil }
            return .reexec(coreType: core, tried: (tried + [core]).joined(separator: ","), warning: warning)
        }
        let origin = coreOrigin(environment: environment)
        // Upgrade only in the first process: a re-executed one either has the core we chose or one
        // we fell back to after a failed check, which must not be upgraded again.
        if origin != .user, tried.isEmpty, let facts, let better = preferredCoreType(picked: picked, facts: facts), let action = reexec(better, nil) {
            return action
        }
        let check = selfCheck()
        if check.passed { return .keep(warning: nil) }
        let what = "sentencevae: warning: OpenBLAS's \(picked) kernels computed a wrong matrix product in the start-up check "
            + "(relative error \(String(format: "%.1e", check.maxRelativeError)))"
        if origin == .user {
            return .keep(warning: what + "; keeping them because OPENBLAS_CORETYPE=\(environment[coreTypeVariable]!) is set. Unset it, or set another core, to change.")
        }
        if let safe = fallbackCoreType(failing: picked, facts: facts),
           let action = reexec(safe, what + "; re-running with OPENBLAS_CORETYPE=\(safe). Set OPENBLAS_CORETYPE yourself to choose another core.") {
            return action
        }
        return .keep(warning: what + "; no safer core left to try. Results may be wrong; set OPENBLAS_CORETYPE to choose a core.")
    }
}
