import Foundation
import XCTest
@testable import ModelIO

/// Paths of the committed fixtures (made by Tools/reference/make_modelio_fixtures.py) and the
/// expected values PyTorch recorded for them.
enum Fixtures {
    static let dir: String = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path

    static func path(_ name: String) -> String { dir + "/" + name }

    /// file → tensor name → {dtype, shape, bits | values}
    static let expected: [String: [String: [String: Any]]] = {
        let data = FileManager.default.contents(atPath: path("expected.json"))!
        return try! JSONSerialization.jsonObject(with: data) as! [String: [String: [String: Any]]]
    }()

    static func bytes(_ name: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: path(name))!)
    }
}

/// A fresh, empty temporary directory.
func temporaryDirectory() -> String {
    let d = NSTemporaryDirectory() + "modelio-tests-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

/// Asserts that `t` holds exactly what PyTorch recorded: dtype, shape and every bit.
func assertBitExact(_ t: TensorData, _ e: [String: Any], file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertEqual(t.dtype.rawValue, e["dtype"] as? String, "\(t.name) dtype", file: file, line: line)
    XCTAssertEqual(t.shape, e["shape"] as? [Int], "\(t.name) shape", file: file, line: line)
    let raw = t.contiguousBytes()
    if let bits = e["bits"] as? [NSNumber] {
        switch t.dtype {
        case .f32:
            let got = raw.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }
            XCTAssertEqual(got, bits.map { $0.uint32Value }, "\(t.name) bits", file: file, line: line)
            // floats() must give the same bits, NaN included.
            XCTAssertEqual(try t.floats().map(\.bitPattern), got, "\(t.name) floats()", file: file, line: line)
        case .f16, .bf16:
            let got = raw.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
            XCTAssertEqual(got, bits.map { $0.uint16Value }, "\(t.name) bits", file: file, line: line)
            let floats = try t.floats()
            let want = got.map { t.dtype == .bf16 ? FloatBits.bf16ToFloat($0) : FloatBits.f16ToFloat($0) }
            XCTAssertEqual(floats.map(\.bitPattern), want.map(\.bitPattern), "\(t.name) floats()", file: file, line: line)
            if t.dtype == .bf16 { XCTAssertEqual(try t.bf16Bits(), got, file: file, line: line) }
        case .f64:
            let got = raw.withUnsafeBytes { Array($0.bindMemory(to: UInt64.self)) }
            XCTAssertEqual(got, bits.map { $0.uint64Value }, "\(t.name) bits", file: file, line: line)
        default:
            XCTFail("unexpected dtype \(t.dtype)", file: file, line: line)
        }
    } else if let values = e["values"] as? [Any] {
        let ints: [Int64] = values.map { v in
            if let b = v as? Bool, t.dtype == .bool { return b ? 1 : 0 }
            return (v as! NSNumber).int64Value
        }
        XCTAssertEqual(try t.int64s(), ints, "\(t.name) values", file: file, line: line)
    } else {
        XCTFail("no expected values for \(t.name)", file: file, line: line)
    }
}
