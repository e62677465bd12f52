import XCTest
@testable import Training

final class SampleSourceTests: XCTestCase {
    func testSampleUnitsAreTheServerModes() {
        XCTAssertEqual(SampleUnit.allCases.map(\.rawValue), ["sentences", "passages"])
    }
}
