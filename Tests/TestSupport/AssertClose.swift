import XCTest

/// Element-wise comparison with an explicit tolerance: `|a − e| ≤ abs + rel·|e|` (exact equality
/// also passes, so matching infinities do). Reports the first element that is off.
public func assertClose(_ actual: [Float], _ expected: [Float], rel: Float = 1e-4, abs absTol: Float = 1e-5,
                        _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(message): element count", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() where !(a == e || Swift.abs(a - e) <= absTol + rel * Swift.abs(e)) {
        XCTFail("\(message): element \(i) is \(a), expected \(e)", file: file, line: line)
        return
    }
}
