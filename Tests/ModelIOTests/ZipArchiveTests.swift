import XCTest
@testable import ModelIO

/// The zip reader on hand-built archives: the zip64 records torch writes for files over 4 GB.
final class ZipArchiveTests: XCTestCase {
    /// A one-entry STORED archive; with `zip64`, the central directory's sizes and offset are
    /// 0xFFFFFFFF with the real values in a zip64 extra field, and the EOCD points to a zip64 EOCD.
    func makeZip(name: String, data: [UInt8], zip64: Bool) -> [UInt8] {
        func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        let n = Array(name.utf8)
        var out: [UInt8] = le(UInt32(0x0403_4B50)) + le(UInt16(20)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt32(0)) + le(UInt32(0))
            + le(UInt32(data.count)) + le(UInt32(data.count)) + le(UInt16(n.count)) + le(UInt16(0)) + n + data
        let cdOffset = out.count
        let extra: [UInt8] = zip64 ? le(UInt16(1)) + le(UInt16(24)) + le(UInt64(data.count)) + le(UInt64(data.count)) + le(UInt64(0)) : []
        let big: UInt32 = 0xFFFF_FFFF
        out += le(UInt32(0x0201_4B50)) + le(UInt16(45)) + le(UInt16(45)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt32(0)) + le(UInt32(0))
        out += (zip64 ? le(big) + le(big) : le(UInt32(data.count)) + le(UInt32(data.count)))
        out += le(UInt16(n.count)) + le(UInt16(extra.count)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt32(0))
        out += (zip64 ? le(big) : le(UInt32(0))) + n + extra
        let cdSize = out.count - cdOffset
        if zip64 {
            let z64 = out.count
            out += le(UInt32(0x0606_4B50)) + le(UInt64(44)) + le(UInt16(45)) + le(UInt16(45)) + le(UInt32(0)) + le(UInt32(0))
                + le(UInt64(1)) + le(UInt64(1)) + le(UInt64(cdSize)) + le(UInt64(cdOffset))
            out += le(UInt32(0x0706_4B50)) + le(UInt32(0)) + le(UInt64(z64)) + le(UInt32(1))
            out += le(UInt32(0x0605_4B50)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt16(0xFFFF)) + le(UInt16(0xFFFF))
                + le(big) + le(big) + le(UInt16(0))
        } else {
            out += le(UInt32(0x0605_4B50)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt16(1)) + le(UInt16(1))
                + le(UInt32(cdSize)) + le(UInt32(cdOffset)) + le(UInt16(0))
        }
        return out
    }

    func testPlainAndZip64Archives() throws {
        for zip64 in [false, true] {
            let bytes = makeZip(name: "archive/data.pkl", data: [0x80, 0x02, 0x4B, 0x07, 0x2E], zip64: zip64)  // pickle of 7
            let zip = try ZipArchive(path: "z", storage: ByteStorage(bytes))
            XCTAssertEqual(zip.names, ["archive/data.pkl"])
            XCTAssertEqual(Array(zip.bytes(zip.entries["archive/data.pkl"]!)), [0x80, 0x02, 0x4B, 0x07, 0x2E])
            let ck = try TorchCheckpoint(path: "z", storage: ByteStorage(bytes))
            XCTAssertEqual(ck.root.intValue, 7)
            XCTAssertThrowsError(try ck.stateDict())  // 7 is not a dict of tensors
            for cut in 0..<bytes.count {
                XCTAssertThrowsError(try ZipArchive(path: "z", storage: ByteStorage(Array(bytes[..<cut]))), "zip64=\(zip64) cut \(cut)")
            }
        }
    }

    /// A central directory claiming 2^60 entries is rejected before anything is allocated.
    func testAbsurdEntryCount() throws {
        var bytes = makeZip(name: "a/data.pkl", data: [0x2E], zip64: true)
        let countOffset = bytes.count - 22 - 20 - 56 + 32  // zip64 EOCD: total entries
        for i in 0..<8 { bytes[countOffset + i] = i == 7 ? 0x10 : 0 }
        XCTAssertThrowsError(try ZipArchive(path: "z", storage: ByteStorage(bytes))) { e in XCTAssertTrue(e is ModelIOError) }
    }
}
