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
}
