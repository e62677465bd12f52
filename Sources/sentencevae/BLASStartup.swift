import Foundation
import TensorCore

/// Gives the process the best correct OpenBLAS kernels before any product runs.
///
/// OpenBLAS picks its kernels once, when the dynamic loader loads it (before `main`), reading
/// `OPENBLAS_CORETYPE` then; it cannot be switched later in the same process. So when
/// `BLASCore.startupAction` says the CPU has better kernels than the ones OpenBLAS picked (Debian's
/// 0.3.21 runs SSE3 "Prescott" kernels on Sapphire Rapids, 4–6× slower than "SkylakeX"), or that the
/// loaded kernels fail the start-up product check, the tool sets `OPENBLAS_CORETYPE` and re-executes
/// itself (`/proc/self/exe`, same arguments) — the only way to reload the library it is linked to.
/// `SENTENCEVAE_BLAS_CORES_TRIED` records what was set, so this happens at most a few times and never
/// loops. A user's own `OPENBLAS_CORETYPE` always wins: it is never replaced (a failing check then
/// only warns). `sentencevae bench kernels` prints the core in use and who chose it.
/// Cost when nothing changes: reading /proc/cpuinfo and two 61×53×47 products, well under a millisecond in release builds.
enum BLASStartup {
    static func run() {
        let environment = ProcessInfo.processInfo.environment
        let action = BLASCore.startupAction(environment: environment, picked: BLASCore.coreName, facts: CPUFeatures.current()) {
            BLAS.setOpenBLASThreads(1)  // our products call OpenBLAS single-threaded; check that path
            // Test hook (the CLI tests): pretend the named core computes wrong products.
            if let core = environment["SENTENCEVAE_BLAS_TEST_FAIL_CORE"], core == BLASCore.coreName {
                return BLASCore.selfCheck { transA, transB, m, n, k, a, lda, b, ldb, c, ldc in
                    BLASCore.openBLASGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
                    c[0] += 1
                }
            }
            return BLASCore.selfCheck()
        }
        switch action {
        case .keep(let warning):
            if let warning { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
        case .reexec(let coreType, let tried, let warning):
            if let warning { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
            setenv(BLASCore.coreTypeVariable, coreType, 1)
            setenv(BLASCore.guardVariable, tried, 1)
            execv(executablePath, CommandLine.unsafeArgv)
            // Only reached when exec failed: carry on with the kernels we have.
            FileHandle.standardError.write(Data("sentencevae: warning: could not re-execute with OPENBLAS_CORETYPE=\(coreType) (\(String(cString: strerror(errno)))); set it yourself for faster products\n".utf8))
            unsetenv(BLASCore.coreTypeVariable)
            unsetenv(BLASCore.guardVariable)
        }
    }

    /// This binary, for running it again (re-exec here, child processes of `bench generate`).
    static var executablePath: String {
        #if os(Linux)
        return "/proc/self/exe"
        #else
        return Bundle.main.executablePath ?? CommandLine.arguments[0]
        #endif
    }
}
