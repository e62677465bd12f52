import XCTest

/// `bench kernels --shape`: shapes are checked before anything is allocated.
final class BenchKernelsCommandTests: XCTestCase {
    /// A product too large for the machine's memory is refused before anything is allocated.
    func testKernelShapesThatCannotFitAreRefused() throws {
        let huge = try CommandRunner.run(["bench", "kernels", "--shape", "1000000,1000000,1000000"])
        XCTAssertNotEqual(huge.status, 0)
        XCTAssertTrue(huge.err.contains("needs about") && huge.err.contains("Choose a smaller product"), huge.err)
        let overflow = try CommandRunner.run(["bench", "kernels", "--shape", "9223372036854775807,2,2"])
        XCTAssertNotEqual(overflow.status, 0)
        XCTAssertTrue(overflow.err.contains("needs about"), overflow.err)
        let malformed = try CommandRunner.run(["bench", "kernels", "--shape", "1,2,3,"])
        XCTAssertTrue(malformed.status != 0 && malformed.err.contains("three positive integers"), malformed.err)
    }
}
