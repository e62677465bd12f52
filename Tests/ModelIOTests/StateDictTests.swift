import XCTest
@testable import ModelIO

final class StateDictTests: XCTestCase {
    func testCheckReportsMissingUnexpectedAndMismatched() throws {
        var sd = StateDict()
        sd["a"] = try TensorData(name: "a", shape: [2, 3], floats: Array(repeating: 0, count: 6))
        sd["b"] = try TensorData(name: "b", shape: [4], floats: [1, 2, 3, 4])
        sd["extra"] = try TensorData(name: "extra", shape: [1], floats: [0])
        let report = sd.check(expected: ["a": [2, 3], "b": [5], "c": [1]])
        XCTAssertEqual(report.missing, ["c"])
        XCTAssertEqual(report.unexpected, ["extra"])
        XCTAssertEqual(report.shapeMismatched, [.init(name: "b", expected: [5], found: [4])])
        XCTAssertFalse(report.isClean)
        XCTAssertThrowsError(try sd.validate(expected: ["a": [2, 3], "b": [5], "c": [1]])) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("missing (1): c") && m.contains("unexpected (1): extra") && m.contains("b expected [5] found [4]"), m)
        }
        XCTAssertNoThrow(try sd.validate(expected: ["a": [2, 3], "b": [4]], allowUnexpected: true))
        XCTAssertTrue(sd.check(expected: ["a": [2, 3], "b": [4], "extra": [1]]).isClean)
        XCTAssertEqual(sd.parameterCount, 11)
    }

    func testPrefixes() throws {
        var sd = StateDict()
        sd["svae.encoder.w"] = try TensorData(name: "svae.encoder.w", shape: [1], floats: [1])
        sd["fc.weight"] = try TensorData(name: "fc.weight", shape: [1], floats: [2])
        let svae = sd.stripping(prefix: "svae.")
        XCTAssertEqual(svae.names, ["encoder.w"])
        XCTAssertEqual(svae.adding(prefix: "m.").names, ["m.encoder.w"])
        sd["fc.weight"] = nil
        XCTAssertEqual(sd.names, ["svae.encoder.w"])
    }

    func testDtypeErrors() throws {
        let t = try TensorData(name: "ids", dtype: .i64, shape: [1], bytes: [1, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(try t.int64s(), [1])
        XCTAssertThrowsError(try t.floats()) { e in XCTAssertTrue("\(e)".contains("ids")) }
        XCTAssertThrowsError(try TensorData(name: "x", dtype: .f32, shape: [3], bytes: [0, 0, 0, 0]))
    }

    /// copyFloats fills an engine-owned buffer (here from a transposed bf16 view) and checks its size.
    func testCopyFloatsIntoBuffer() throws {
        let sd = try TorchCheckpoint(path: Fixtures.path("mmengine_style.pth")).stateDict()
        let t = try sd.tensor("bf16_transposed")
        var buf = [Float](repeating: .nan, count: t.elementCount)
        try buf.withUnsafeMutableBufferPointer { try t.copyFloats(into: $0) }
        XCTAssertEqual(buf, try t.floats())
        var short = [Float](repeating: 0, count: 3)
        XCTAssertThrowsError(try short.withUnsafeMutableBufferPointer { try t.copyFloats(into: $0) })
    }
}
