import Foundation
import XCTest
@testable import ModelIO

final class SafetensorsTests: XCTestCase {
    /// `safetensors.torch.save_file` output reads back bit-exactly, every dtype.
    func testReadsPyTorchWrittenFileBitExactly() throws {
        let f = try SafetensorsFile(path: Fixtures.path("tensors.safetensors"))
        let expected = Fixtures.expected["tensors.safetensors"]!
        XCTAssertEqual(Set(f.tensors.names), Set(expected.keys))
        for t in f.tensors.all { try assertBitExact(t, expected[t.name]!) }
        XCTAssertEqual(f.metadata, ["format": "pt", "note": "fixture"])
        XCTAssertEqual(f.tensors["empty"]?.elementCount, 0)
        XCTAssertEqual(try f.tensors.tensor("empty").floats(), [])
        XCTAssertEqual(f.tensors["scalar"]?.shape, [])
        XCTAssertEqual(try f.tensors.tensor("scalar").floats(), [2.5])
    }

    /// Tensors are slices of the mapping, not copies.
    func testTensorsAreViewsOfTheMapping() throws {
        let f = try SafetensorsFile(path: Fixtures.path("tensors.safetensors"))
        let a = try f.tensors.tensor("f32"), b = try f.tensors.tensor("i64")
        XCTAssertTrue(a.storage === b.storage)
        XCTAssertTrue(a.isContiguous)
    }

    /// A large file is mapped whole and byte-exact (on Linux at a 2 MB boundary, for huge pages),
    /// including its last bytes past the final 2 MB boundary.
    func testLargeFileMapsWholeAndAligned() throws {
        let size = (5 << 20) + 12_345
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        let path = temporaryDirectory() + "/large.bin"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let storage = try ByteStorage(mapping: path)
        XCTAssertEqual(storage.count, size)
        XCTAssertTrue(storage.buffer.elementsEqual(bytes))
        #if os(Linux)
        XCTAssertEqual(Int(bitPattern: storage.base) % (2 << 20), 0)
        #endif
    }

    /// What we write, we (and the format) read back identically, including f16/bf16/ints.
    func testWriteReadRoundTrip() throws {
        let src = try SafetensorsFile(path: Fixtures.path("tensors.safetensors"))
        let dir = temporaryDirectory()
        let out = dir + "/copy.safetensors"
        try SafetensorsWriter.write(src.tensors, metadata: ["format": "pt", "k\"ey": "va\\lue\n"], to: out)
        let back = try SafetensorsFile(path: out)
        XCTAssertEqual(back.tensors.names.count, src.tensors.names.count)
        for t in src.tensors.all {
            let u = try back.tensors.tensor(t.name)
            XCTAssertEqual(u.dtype, t.dtype); XCTAssertEqual(u.shape, t.shape)
            XCTAssertEqual(u.contiguousBytes(), t.contiguousBytes(), t.name)
        }
        XCTAssertEqual(back.metadata["k\"ey"], "va\\lue\n")
        // Header padded so the data starts 8-byte aligned.
        let header = try Data(contentsOf: URL(fileURLWithPath: out)).prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        XCTAssertEqual(header % 8, 0)
        // No temporary files left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["copy.safetensors"])
    }

    /// Non-contiguous views (from a .pth) are written in row-major order.
    func testWritingStridedViewsMaterialisesThem() throws {
        let ck = try TorchCheckpoint(path: Fixtures.path("mmengine_style.pth")).stateDict()
        let out = temporaryDirectory() + "/views.safetensors"
        try SafetensorsWriter.write(ck, to: out)
        let back = try SafetensorsFile(path: out).tensors
        for t in ck.all {
            try assertBitExact(try back.tensor(t.name), Fixtures.expected["mmengine_style.pth"]![t.name]!)
        }
    }

    /// A failed write leaves the old file in place and no temporary file.
    func testAtomicWriteKeepsOldFileOnFailure() throws {
        let dir = temporaryDirectory()
        let path = dir + "/model.safetensors"
        try AtomicFile.write(Array("old".utf8), to: path)
        struct Boom: Error {}
        XCTAssertThrowsError(try AtomicFile.write(to: path) { w in
            try w.write("half of a new fi")
            throw Boom()
        })
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["model.safetensors"])
        XCTAssertThrowsError(try AtomicFile.write([1], to: dir + "/no/such/dir/x"))
    }

    func testDuplicateNamesAreRefused() throws {
        let t = try TensorData(name: "w", shape: [1], floats: [1])
        XCTAssertThrowsError(try SafetensorsWriter.write([t, t], to: temporaryDirectory() + "/d.safetensors"))
    }

    /// The half → float conversion agrees with the hardware/stdlib one on all 65536 inputs, and
    /// float → bf16 rounds to nearest even.
    func testHalfAndBFloat16Conversions() {
        #if !(os(macOS) && arch(x86_64))
        for h in 0...0xFFFF {
            let want = Float(Float16(bitPattern: UInt16(h)))
            let got = FloatBits.f16ToFloat(UInt16(h))
            if want.isNaN { XCTAssertTrue(got.isNaN) } else { XCTAssertEqual(got.bitPattern, want.bitPattern, "half 0x\(String(h, radix: 16))") }
        }
        #endif
        XCTAssertEqual(FloatBits.floatToBF16(1.0), 0x3F80)
        XCTAssertEqual(FloatBits.floatToBF16(Float(bitPattern: 0x3F80_8000)), 0x3F80)  // tie → even
        XCTAssertEqual(FloatBits.floatToBF16(Float(bitPattern: 0x3F81_8000)), 0x3F82)  // tie → even
        XCTAssertEqual(FloatBits.floatToBF16(Float(bitPattern: 0x3F80_8001)), 0x3F81)
        XCTAssertTrue(FloatBits.bf16ToFloat(FloatBits.floatToBF16(.nan)).isNaN)
        XCTAssertEqual(FloatBits.floatToBF16(.infinity), 0x7F80)
    }
}
