import XCTest

/// The tool's start-up choice of OpenBLAS kernels, seen from outside: a user's `OPENBLAS_CORETYPE`
/// is left alone, and `bench kernels --core-only` says which core runs and who chose it.
final class BLASCoreCommandTests: XCTestCase {
    private let guardVariable = "SENTENCEVAE_BLAS_CORES_TRIED"

    func testUserCoreTypeIsLeftAlone() throws {
        for core in ["Prescott", "Haswell"] {
            let r = try CommandRunner.run(["bench", "kernels", "--core-only"], environment: ["OPENBLAS_CORETYPE": core, guardVariable: nil])
            XCTAssertEqual(r.status, 0, r.err)
            XCTAssertEqual(r.out.trimmingCharacters(in: .whitespacesAndNewlines), "BLAS: OpenBLAS core \(core), OPENBLAS_CORETYPE set by the user")
            XCTAssertEqual(r.err, "")
        }
    }

    func testDefaultCoreIsReportedWithItsOrigin() throws {
        let r = try CommandRunner.run(["bench", "kernels", "--core-only"], environment: ["OPENBLAS_CORETYPE": nil, guardVariable: nil])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("BLAS: OpenBLAS core "), r.out)
        // Either OpenBLAS's own pick was the best for this CPU, or the tool re-executed with a better one.
        XCTAssertTrue(r.out.contains("OpenBLAS's own detection") || r.out.contains("chosen by sentencevae"), r.out)
        XCTAssertFalse(r.out.contains("set by the user"), r.out)
    }

    /// The acting part for real: the loaded kernels fail the start-up check (simulated by the test
    /// hook), so the tool warns and re-executes itself with safer ones, exactly once.
    func testFailedSelfCheckReexecutesWithASaferCore() throws {
        let loaded = try CommandRunner.run(["bench", "kernels", "--core-only"], environment: ["OPENBLAS_CORETYPE": nil, guardVariable: nil])
        guard let core = loaded.out.split(separator: " ").dropFirst(3).first.map({ String($0.dropLast()) }), core != "Prescott" else {
            throw XCTSkip("OpenBLAS already runs Prescott kernels here")
        }
        let r = try CommandRunner.run(["bench", "kernels", "--core-only"],
                                      environment: ["OPENBLAS_CORETYPE": nil, guardVariable: nil, "SENTENCEVAE_BLAS_TEST_FAIL_CORE": core])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("OpenBLAS's \(core) kernels computed a wrong matrix product"), r.err)
        XCTAssertEqual(r.err.components(separatedBy: "warning").count, 2, r.err)  // one warning: no loop
        XCTAssertTrue(r.out.contains("core Prescott, chosen by sentencevae") || r.out.contains("core Haswell, chosen by sentencevae"), r.out)
        // The user's own choice is kept even when it fails, with a warning.
        let user = try CommandRunner.run(["bench", "kernels", "--core-only"],
                                         environment: ["OPENBLAS_CORETYPE": "Haswell", guardVariable: nil, "SENTENCEVAE_BLAS_TEST_FAIL_CORE": "Haswell"])
        XCTAssertEqual(user.status, 0, user.err)
        XCTAssertTrue(user.out.contains("core Haswell, OPENBLAS_CORETYPE set by the user"), user.out)
        XCTAssertTrue(user.err.contains("keeping them because OPENBLAS_CORETYPE=Haswell is set"), user.err)
    }
}
