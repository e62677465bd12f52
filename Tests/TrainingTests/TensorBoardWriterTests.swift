import Foundation
import XCTest
@testable import Training

final class TensorBoardWriterTests: XCTestCase {
    /// RFC 3720 (iSCSI) test vectors and the check value of CRC-32C; the masked value is what the
    /// tensorboard package's own `masked_crc32c` gives.
    func testCRC32CKnownVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([]), 0)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.masked(0), 0xA282_EAD8)
        // tensorboard's masked_crc32c(b"123456789").
        XCTAssertEqual(CRC32C.masked(0xE306_9283), 0xC78A_B0E5)
    }

    /// Field keys, varints and fixed-width values as the protobuf wire format defines them.
    func testProtobufWireBytes() {
        var value = ProtobufEncoder()
        value.string(1, "a")
        value.float(2, 1.0)
        XCTAssertEqual(value.bytes, [0x0A, 0x01, 0x61, 0x15, 0x00, 0x00, 0x80, 0x3F])
        var event = ProtobufEncoder()
        event.int64(2, 300)
        event.int64(2, -1)
        event.double(1, 2.0)
        XCTAssertEqual(event.bytes, [0x10, 0xAC, 0x02,
                                     0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
                                     0x09, 0, 0, 0, 0, 0, 0, 0, 0x40])
    }

    /// Writes a small run and reads it back with an independent record reader: framing, both
    /// CRCs, the file-version event, then one event per `add` with its step, tags and values, all
    /// visible before the writer is closed. Set TENSORBOARD_TEST_DIR to keep the file (for
    /// Tools/reference/check_tensorboard_events.py).
    func testEventFileReadsBack() throws {
        let dir = ProcessInfo.processInfo.environment["TENSORBOARD_TEST_DIR"] ?? temporaryDirectory()
        let writer = try TensorBoardWriter(directory: dir, wallTime: 1_700_000_000.25)
        let name = (writer.path as NSString).lastPathComponent
        XCTAssertTrue(name.hasPrefix("events.out.tfevents.1700000000."), name)
        for step in 0..<5 {
            try writer.add(scalars: [(tag: "train/loss", value: 10.0 / Double(step + 1)), (tag: "train/lr", value: 3e-4 * Double(step))],
                           step: step * 10, wallTime: 1_700_000_001 + Double(step))
        }
        try writer.add(scalars: ["eval/ppl": 123.5], step: 40, wallTime: 1_700_000_010)

        // Read while the writer is still open: every add must already be in the file.
        let events = try readEvents(writer.path)
        XCTAssertEqual(events.count, 7)
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(events[0].wallTime, 1_700_000_000.25)
        XCTAssertTrue(events[0].values.isEmpty)
        for step in 0..<5 {
            let e = events[step + 1]
            XCTAssertEqual(e.step, Int64(step * 10))
            XCTAssertEqual(e.wallTime, 1_700_000_001 + Double(step))
            XCTAssertNil(e.fileVersion)
            XCTAssertEqual(e.values.map(\.tag), ["train/loss", "train/lr"])
            XCTAssertEqual(e.values[0].value, Float(10.0 / Double(step + 1)))
            XCTAssertEqual(e.values[1].value, Float(3e-4 * Double(step)))
        }
        XCTAssertEqual(events[6].step, 40)
        XCTAssertEqual(events[6].values.map(\.tag), ["eval/ppl"])
        XCTAssertEqual(events[6].values[0].value, 123.5)
        writer.close()
        XCTAssertThrowsError(try writer.add(scalars: ["x": 1], step: 0))
    }

    /// A resumed run opens a second file beside the first, even within the same second.
    func testEachWriterStartsItsOwnFile() throws {
        let dir = temporaryDirectory()
        let a = try TensorBoardWriter(directory: dir + "/nested/logs", wallTime: 1_700_000_000)
        try a.add(scalars: ["loss": 1], step: 1)
        let b = try TensorBoardWriter(directory: dir + "/nested/logs", wallTime: 1_700_000_000)
        try b.add(scalars: ["loss": 2], step: 2)
        XCTAssertNotEqual(a.path, b.path)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/nested/logs").sorted()
        XCTAssertEqual(files.count, 2)
        XCTAssertTrue(files.allSatisfy { $0.hasPrefix("events.out.tfevents.1700000000.") }, "\(files)")
        XCTAssertEqual(try readEvents(a.path).last?.values.first?.value, 1)
        XCTAssertEqual(try readEvents(b.path).last?.values.first?.value, 2)
    }

    func testUnwritableDirectoryIsAnErrorNamingIt() throws {
        let dir = temporaryDirectory()
        let blocker = dir + "/file"
        _ = FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8))
        XCTAssertThrowsError(try TensorBoardWriter(directory: blocker + "/logs")) { error in
            XCTAssertTrue("\(error)".contains(blocker), "\(error)")
        }
    }
}

// MARK: - An independent reader for the test

struct DecodedEvent {
    var wallTime = 0.0
    var step: Int64 = 0
    var fileVersion: String?
    var values: [(tag: String, value: Float)] = []
}

/// Splits a TFRecord file into records, checking both masked CRC-32Cs, and decodes the Event fields.
func readEvents(_ path: String) throws -> [DecodedEvent] {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    var records: [[UInt8]] = []
    var p = 0
    func le<T: FixedWidthInteger>(_: T.Type, _ at: Int) -> T {
        var v: T = 0
        for i in 0..<MemoryLayout<T>.size { v |= T(bytes[at + i]) << (8 * i) }
        return v
    }
    while p < bytes.count {
        guard p + 12 <= bytes.count else { throw TestFailure("truncated record header at \(p)") }
        let length = Int(le(UInt64.self, p))
        guard le(UInt32.self, p + 8) == CRC32C.masked(CRC32C.checksum(Array(bytes[p..<(p + 8)]))) else {
            throw TestFailure("bad length CRC at \(p)")
        }
        guard p + 12 + length + 4 <= bytes.count else { throw TestFailure("truncated record at \(p)") }
        let data = Array(bytes[(p + 12)..<(p + 12 + length)])
        guard le(UInt32.self, p + 12 + length) == CRC32C.masked(CRC32C.checksum(data)) else {
            throw TestFailure("bad data CRC at \(p)")
        }
        records.append(data)
        p += 12 + length + 4
    }
    return try records.map { data in
        var e = DecodedEvent()
        for (field, payload) in try protobufFields(data) {
            switch (field, payload) {
            case let (1, .fixed64(v)): e.wallTime = Double(bitPattern: v)
            case let (2, .varint(v)): e.step = Int64(bitPattern: v)
            case let (3, .bytes(b)): e.fileVersion = String(decoding: b, as: UTF8.self)
            case let (5, .bytes(summary)):
                for case let (1, .bytes(value)) in try protobufFields(summary) {
                    var tag = "", v: Float = .nan
                    for (f, x) in try protobufFields(value) {
                        if f == 1, case let .bytes(t) = x { tag = String(decoding: t, as: UTF8.self) }
                        if f == 2, case let .fixed32(b) = x { v = Float(bitPattern: b) }
                    }
                    e.values.append((tag, v))
                }
            default: throw TestFailure("unexpected Event field \(field)")
            }
        }
        return e
    }
}

enum WireValue {
    case varint(UInt64), fixed64(UInt64), fixed32(UInt32), bytes([UInt8])
}

func protobufFields(_ b: [UInt8]) throws -> [(Int, WireValue)] {
    var out: [(Int, WireValue)] = []
    var p = 0
    func varint() throws -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard p < b.count, shift < 64 else { throw TestFailure("bad varint") }
            let x = b[p]; p += 1
            v |= UInt64(x & 0x7F) << shift
            if x & 0x80 == 0 { return v }
            shift += 7
        }
    }
    func fixed(_ n: Int) throws -> UInt64 {
        guard p + n <= b.count else { throw TestFailure("truncated fixed field") }
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(b[p + i]) << (8 * UInt64(i)) }
        p += n
        return v
    }
    while p < b.count {
        let key = try varint()
        let field = Int(key >> 3)
        switch key & 7 {
        case 0: out.append((field, .varint(try varint())))
        case 1: out.append((field, .fixed64(try fixed(8))))
        case 5: out.append((field, .fixed32(UInt32(try fixed(4)))))
        case 2:
            let n = Int(try varint())
            guard p + n <= b.count else { throw TestFailure("truncated length-delimited field") }
            out.append((field, .bytes(Array(b[p..<(p + n)])))); p += n
        default: throw TestFailure("wire type \(key & 7)")
        }
    }
    return out
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A fresh, empty temporary directory.
func temporaryDirectory() -> String {
    let d = NSTemporaryDirectory() + "training-tests-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}
