import Foundation
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

    /// A shape may name the backward pass's layouts; JSON says which one each product used, and the
    /// storage-format table (weights are always W[N,K]) leaves such shapes out.
    func testShapesNameTheirLayout() throws {
        let r = try CommandRunner.run(["bench", "kernels", "--threads", "1", "--shape", "8,16,24,tn", "--shape", "8,16,24", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let products = try XCTUnwrap(object["products"] as? [[String: Any]])
        XCTAssertEqual(products.compactMap { $0["layout"] as? String }, ["tn", "nt"])
        XCTAssertTrue(products.allSatisfy { ($0["ours"] as? Double ?? 0) > 0 && ($0["openBLAS"] as? Double ?? 0) > 0 }, r.out)
        XCTAssertEqual((object["compact"] as? [Any])?.count, 1)
        let bad = try CommandRunner.run(["bench", "kernels", "--shape", "8,16,24,tt"])
        XCTAssertTrue(bad.status != 0 && bad.err.contains("optionally a layout nt, nn or tn"), bad.err)
    }
}
