import Foundation
import XCTest
@testable import ModelIO

final class TorchCheckpointWriterTests: XCTestCase {
    /// Every dtype torch has a storage for, an empty tensor, a scalar, NaN payloads and odd names.
    static func sampleTensors() throws -> [TensorData] {
        func raw<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
        let nanPayload = Float(bitPattern: 0x7FC0_1234)
        return [
            try TensorData(name: "encoder.embed_token.weight", shape: [3, 4], floats: (0..<12).map { Float($0) * 0.37 - 1 }),
            try TensorData(name: "f32.special", shape: [5], floats: [nanPayload, -.infinity, .infinity, -0.0, .leastNonzeroMagnitude]),
            try TensorData(name: "f16", dtype: .f16, shape: [2, 2], bytes: raw([UInt16(0x3C00), 0x7E01, 0x8001, 0xFBFF])),
            try TensorData(name: "bf16", dtype: .bf16, shape: [3], bytes: raw([UInt16(0x3F80), 0xFFC1, 0x0001])),
            try TensorData(name: "i64", dtype: .i64, shape: [4], bytes: raw([Int64.min, -1, 0, Int64.max])),
            try TensorData(name: "f64", dtype: .f64, shape: [2], bytes: raw([Double.pi, -Double.greatestFiniteMagnitude])),
            try TensorData(name: "i32", dtype: .i32, shape: [2], bytes: raw([Int32.min, 7])),
            try TensorData(name: "i16", dtype: .i16, shape: [1], bytes: raw([Int16(-300)])),
            try TensorData(name: "i8", dtype: .i8, shape: [2], bytes: [0x80, 0x7F]),
            try TensorData(name: "u8", dtype: .u8, shape: [2], bytes: [0, 255]),
            try TensorData(name: "bool", dtype: .bool, shape: [3], bytes: [1, 0, 1]),
            try TensorData(name: "empty", shape: [0, 4], floats: []),
            try TensorData(name: "empty.trailing", dtype: .i64, shape: [4, 0], bytes: []),
            try TensorData(name: "scalar", shape: [], floats: [2.5]),
            try TensorData(name: "名前 with spaces/and.slashes", shape: [1, 1, 1], floats: [1]),
        ]
    }

    static let meta: [(key: String, value: PickleLiteral)] = [
        ("iter", 5000), ("source", "swift-sentencevae"), ("lr", 2.5e-4), ("ema", true), ("resumed_from", nil),
        ("big", .int(1 << 40)), ("negative", .int(-(1 << 35))), ("milestones", [1, 2, 3]), ("shape", .tuple([2, 3])),
        ("nested", ["a": [1.5, "x"], "b": [:]]),
    ]

    func testRoundTripBitExact() throws {
        let path = temporaryDirectory() + "/model.pth"
        let tensors = try Self.sampleTensors()
        try TorchCheckpointWriter.write(tensors, meta: Self.meta, to: path)
        let ck = try TorchCheckpoint(path: path)
        XCTAssertEqual(ck.topLevelKeys, ["meta", "state_dict"])
        let sd = try ck.stateDict()
        XCTAssertEqual(sd.names, tensors.map(\.name))
        for t in tensors {
            let back = try sd.tensor(t.name)
            XCTAssertEqual(back.dtype, t.dtype, t.name)
            XCTAssertEqual(back.shape, t.shape, t.name)
            XCTAssertEqual(back.strides, TensorData.contiguousStrides(t.shape), t.name)
            XCTAssertEqual(back.storageOffset, 0, t.name)
            XCTAssertEqual(back.contiguousBytes(), t.contiguousBytes(), t.name)
        }
        // Torch's own stride convention for empty tensors: [0, 4] → (4, 1), [4, 0] → (1, 1).
        XCTAssertEqual(try sd.tensor("empty").strides, [4, 1])
        XCTAssertEqual(try sd.tensor("empty.trailing").strides, [1, 1])
        XCTAssertEqual(try sd.tensor("scalar").floats(), [2.5])

        let meta = try XCTUnwrap(ck.meta)
        XCTAssertEqual(meta["iter"]?.intValue, 5000)
        XCTAssertEqual(meta["source"]?.stringValue, "swift-sentencevae")
        XCTAssertEqual(meta["lr"]?.doubleValue, 2.5e-4)
        guard case .bool(true)? = meta["ema"], case .none? = meta["resumed_from"] else { return XCTFail("\(meta)") }
        XCTAssertEqual(meta["big"]?.intValue, 1 << 40)
        XCTAssertEqual(meta["negative"]?.intValue, -(1 << 35))
        guard case let .list(milestones)? = meta["milestones"], case let .tuple(shape)? = meta["shape"] else { return XCTFail("\(meta)") }
        XCTAssertEqual(milestones.items.compactMap(\.intValue), [1, 2, 3])
        XCTAssertEqual(shape.compactMap(\.intValue), [2, 3])
        guard case let .list(a)? = meta["nested"]?["a"], case let .dict(b)? = meta["nested"]?["b"] else { return XCTFail("\(meta)") }
        XCTAssertEqual(a.items.first?.doubleValue, 1.5); XCTAssertEqual(a.items.last?.stringValue, "x")
        XCTAssertTrue(b.items.isEmpty)
    }

    /// Enough tensors to cross the pickle's 1000-item SETITEMS batches and the 256-entry memo
    /// (BINPUT → LONG_BINPUT), with a different shape each.
    func testManyTensors() throws {
        let path = temporaryDirectory() + "/many.pth"
        let tensors = try (0..<1500).map { i in
            try TensorData(name: "layers.\(i).weight", shape: [i % 3 + 1, i % 5], floats: (0..<((i % 3 + 1) * (i % 5))).map { Float(i) + Float($0) / 8 })
        }
        try TorchCheckpointWriter.write(StateDict(tensors), meta: [("iter", 1)], to: path)
        let sd = try TorchCheckpoint(path: path).stateDict()
        XCTAssertEqual(sd.names, tensors.map(\.name))
        for t in tensors {
            let back = try sd.tensor(t.name)
            XCTAssertEqual(back.shape, t.shape, t.name)
            XCTAssertEqual(back.contiguousBytes(), t.contiguousBytes(), t.name)
        }
    }

    /// A .pth read back from a .pth keeps views: transposed and strided tensors keep their strides,
    /// a view keeps its offset, and two views of one storage still share it (and it is written once).
    func testViewsAndSharedStoragesKeepTheirLayout() throws {
        let source = try TorchCheckpoint(path: Fixtures.path("mmengine_style.pth")).stateDict()
        let path = temporaryDirectory() + "/views.pth"
        try TorchCheckpointWriter.write(source, to: path)
        let sd = try TorchCheckpoint(path: path).stateDict()
        let expected = Fixtures.expected["mmengine_style.pth"]!
        XCTAssertEqual(sd.names, source.names)
        for t in sd.all { try assertBitExact(t, expected[t.name]!) }
        for t in source.all {
            let back = try sd.tensor(t.name)
            XCTAssertEqual(back.strides, t.strides, t.name)
            XCTAssertEqual(back.storageOffset, t.storageOffset, t.name)
        }
        let a = try sd.tensor("shared.a"), b = try sd.tensor("shared.b")
        XCTAssertEqual(a.byteRange, b.byteRange)
        let archive = try ZipArchive(path: path, storage: ByteStorage(mapping: path))
        let storages = archive.names.filter { $0.contains("/data/") }
        XCTAssertEqual(storages.count, Set(source.all.map { "\($0.byteRange)\($0.dtype)" }).count)
    }

    /// The layout torch.save writes: the records in its order under one folder, and every entry's
    /// data on a 64-byte boundary (what lets torch.load(mmap=True) and our reader map in place).
    func testArchiveLayoutAndAlignment() throws {
        let path = temporaryDirectory() + "/svae-768.h1.pth"
        try TorchCheckpointWriter.write(try Self.sampleTensors(), to: path)
        let archive = try ZipArchive(path: path, storage: ByteStorage(mapping: path))
        let n = try Self.sampleTensors().count
        XCTAssertEqual(archive.names, ["svae-768.h1/data.pkl", "svae-768.h1/.format_version", "svae-768.h1/.storage_alignment",
                                       "svae-768.h1/byteorder"] + (0..<n).map { "svae-768.h1/data/\($0)" } + ["svae-768.h1/version"])
        for name in archive.names {
            XCTAssertEqual(archive.entries[name]!.range.lowerBound % 64, 0, name)
        }
        XCTAssertEqual(String(decoding: archive.bytes(archive.entries["svae-768.h1/version"]!), as: UTF8.self), "3\n")
        XCTAssertEqual(String(decoding: archive.bytes(archive.entries["svae-768.h1/byteorder"]!), as: UTF8.self), "little")
        XCTAssertEqual(TorchCheckpointWriter.archiveName(for: "/x/.hidden.pth"), "archive")
        XCTAssertEqual(TorchCheckpointWriter.archiveName(for: "a b.pth"), "a_b")
    }

    /// Entry CRCs: zip readers (Python's zipfile, torch's miniz) check them.
    func testEntryCRCsMatchTheData() throws {
        let path = temporaryDirectory() + "/crc.pth"
        try TorchCheckpointWriter.write(try Self.sampleTensors(), to: path)
        let storage = try ByteStorage(mapping: path)
        let archive = try ZipArchive(path: path, storage: storage)
        // Walk the central directory: the CRC field of each entry against a plain bitwise CRC-32.
        let b = storage.buffer
        var p = b.count - 22
        let count = Int(b.loadUnaligned(fromByteOffset: p + 10, as: UInt16.self))
        p = Int(b.loadUnaligned(fromByteOffset: p + 16, as: UInt32.self))
        for _ in 0..<count {
            XCTAssertEqual(b.loadUnaligned(fromByteOffset: p, as: UInt32.self), 0x0201_4B50)
            let crc = b.loadUnaligned(fromByteOffset: p + 16, as: UInt32.self)
            let nameLength = Int(b.loadUnaligned(fromByteOffset: p + 28, as: UInt16.self))
            let extraLength = Int(b.loadUnaligned(fromByteOffset: p + 30, as: UInt16.self))
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: b[(p + 46)..<(p + 46 + nameLength)]), as: UTF8.self)
            XCTAssertEqual(crc, bitwiseCRC32(Array(archive.bytes(archive.entries[name]!))), name)
            p += 46 + nameLength + extraLength
        }
    }

    func testCRC32KnownVectors() {
        func crc(_ s: String) -> UInt32 { Array(s.utf8).withUnsafeBytes { CRC32.checksum($0) } }
        XCTAssertEqual(crc("123456789"), 0xCBF4_3926)
        XCTAssertEqual(crc("The quick brown fox jumps over the lazy dog"), 0x414F_A339)
        XCTAssertEqual(crc(""), 0)
        // The eight-bytes-a-step loop against the plain one, at every length and alignment.
        var rng = SystemRandomNumberGenerator()
        let data = (0..<100).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for start in 0..<8 {
            for end in stride(from: start, through: data.count, by: 3) {
                let slice = Array(data[start..<end])
                XCTAssertEqual(slice.withUnsafeBytes { CRC32.checksum($0) }, bitwiseCRC32(slice), "\(start)..<\(end)")
            }
        }
    }

    /// Sizes and offsets at the ZIP64 threshold (lowered so the test need not write 4 GiB) go into
    /// ZIP64 extra fields and end records, and both our reader and torch read the file.
    /// Set TORCH_EXPORT_TEST_DIR to keep it with a safetensors twin for
    /// Tools/reference/check_exported_pth.py.
    func testZip64() throws {
        let dir = ProcessInfo.processInfo.environment["TORCH_EXPORT_TEST_DIR"] ?? temporaryDirectory()
        let path = dir + "/zip64.pth"
        let tensors = try Self.sampleTensors()
        try TorchCheckpointWriter.write(tensors, meta: [("iter", 7)], to: path, zip64Threshold: 16)
        try SafetensorsWriter.write(tensors, to: dir + "/zip64.safetensors")
        let bytes = Fixtures.bytesAt(path)
        // zip64 end record and locator precede the classic end record, which points at them.
        XCTAssertEqual(Array(bytes[(bytes.count - 42)..<(bytes.count - 38)]), [0x50, 0x4B, 0x06, 0x07])
        XCTAssertEqual(Array(bytes[(bytes.count - 12)..<(bytes.count - 6)]), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        let sd = try TorchCheckpoint(path: path).stateDict()
        XCTAssertEqual(sd.names, tensors.map(\.name))
        for t in tensors { XCTAssertEqual(try sd.tensor(t.name).contiguousBytes(), t.contiguousBytes(), t.name) }
        // Also written normally, for the reference script.
        try TorchCheckpointWriter.write(tensors, meta: [("iter", 7), ("source", "swift-sentencevae")], to: dir + "/sample.pth")
    }

    func testPickleIntegersRoundTrip() throws {
        let values = [0, 1, 255, 256, 65535, 65536, -1, -256, Int(Int32.max), Int(Int32.min), 1 << 31, -(1 << 31) - 1,
                      1 << 40, -(1 << 40), 0x7F << 48, -(0x80 << 48), Int.max, Int.min]
        var w = PickleWriter()
        w.literal(.list(values.map { .int($0) }))
        let bytes = w.finish()
        let v = try bytes.withUnsafeBytes { try Pickle.load($0, path: "ints") }
        guard case let .list(l) = v else { return XCTFail("\(v)") }
        XCTAssertEqual(l.items.map(\.intValue), values.map { Optional($0) })
    }

    /// No timestamps or random ids: the same tensors under the same file name give the same bytes,
    /// and overwriting a file replaces it whole.
    func testSameInputGivesTheSameBytes() throws {
        let one = temporaryDirectory(), two = temporaryDirectory()
        try TorchCheckpointWriter.write(try Self.sampleTensors(), meta: Self.meta, to: one + "/model.pth")
        try TorchCheckpointWriter.write(try Self.sampleTensors(), meta: Self.meta, to: two + "/model.pth")
        let a = Fixtures.bytesAt(one + "/model.pth")
        XCTAssertEqual(Fixtures.bytesAt(two + "/model.pth"), a)
        try TorchCheckpointWriter.write([try TensorData(name: "x", shape: [1], floats: [1])], to: one + "/model.pth")
        XCTAssertLessThan(Fixtures.bytesAt(one + "/model.pth").count, a.count)
        XCTAssertEqual(try TorchCheckpoint(path: one + "/model.pth").stateDict().names, ["x"])
    }

    /// A write that fails leaves nothing new behind and never touches an existing file.
    func testFailuresLeaveFilesAlone() throws {
        let dir = temporaryDirectory()
        let path = dir + "/model.pth"
        try Data("previous".utf8).write(to: URL(fileURLWithPath: path))
        let t = try TensorData(name: "w", shape: [1], floats: [1])
        XCTAssertThrowsError(try TorchCheckpointWriter.write([t, t], to: path)) { error in
            XCTAssertTrue("\(error)".contains("'w' occurs twice"), "\(error)")
        }
        XCTAssertEqual(Fixtures.bytesAt(path), Array("previous".utf8))
        XCTAssertThrowsError(try TorchCheckpointWriter.write([t], to: dir + "/missing/model.pth")) { error in
            XCTAssertTrue("\(error)".contains(dir + "/missing/model.pth"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["model.pth"])
    }
}

/// CRC-32 one bit at a time, straight from the polynomial: the reference for the table version.
func bitwiseCRC32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1))) }
    }
    return ~c
}

extension Fixtures {
    static func bytesAt(_ path: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: path) ?? Data())
    }
}
