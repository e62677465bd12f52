import Foundation
import XCTest
@testable import ModelIO

/// Files that are truncated, corrupted or malicious must give a clear error: never a crash, a hang,
/// an absurd allocation, or code execution.
final class HostileFileTests: XCTestCase {
    /// Loads everything a user would: parse, then materialise every tensor.
    func loadAll(_ bytes: [UInt8], as name: String) throws {
        let storage = ByteStorage(bytes)
        let sd: StateDict
        if name.hasSuffix(".safetensors") {
            sd = try SafetensorsFile(path: name, storage: storage).tensors
        } else {
            let ck = try TorchCheckpoint(path: name, storage: storage)
            sd = try ck.stateDict()
            _ = ck.meta?.description
        }
        for t in sd.all { _ = t.contiguousBytes() }
    }

    /// Offsets to cut at: every one near both ends, and a stride through the middle.
    func cuts(_ n: Int, every step: Int = 13) -> [Int] {
        Array(Set(Array(0..<min(n, 300)) + Array(max(0, n - 300)..<n) + Array(stride(from: 0, to: n, by: step)))).sorted()
    }

    func testTruncatedFilesAlwaysFail() throws {
        for name in ["mmengine_style.pth", "tensors.safetensors", "opt-tiny/model.safetensors", "opt-tiny-bin/pytorch_model.bin",
                     "original_svae_tiny.pth"] {
            let bytes = Fixtures.bytes(name)
            XCTAssertNoThrow(try loadAll(bytes, as: name))
            var tried = 0
            for cut in cuts(bytes.count, every: bytes.count > 100_000 ? 211 : 13) {
                tried += 1
                XCTAssertThrowsError(try loadAll(Array(bytes[..<cut]), as: name), "\(name) cut at \(cut) loaded") { e in
                    XCTAssertTrue(e is ModelIOError, "\(e)")
                    XCTAssertTrue("\(e)".contains(name), "\(e)")
                }
            }
            XCTAssertGreaterThan(tried, 500)
        }
    }

    /// Random byte corruption: the load may fail or succeed, but returns.
    func testRandomCorruptionNeverCrashes() throws {
        var rng = SplitMix(seed: 42)
        for name in ["mmengine_style.pth", "tensors.safetensors", "opt-tiny-bin/pytorch_model.bin", "original_svae_tiny.pth"] {
            let bytes = Fixtures.bytes(name)
            var failures = 0
            for _ in 0..<(bytes.count > 100_000 ? 100 : 400) {
                var b = bytes
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
                do { try loadAll(b, as: name) } catch { failures += 1; XCTAssertTrue(error is ModelIOError, "\(error)") }
            }
            XCTAssertGreaterThan(failures, 0, name)
        }
    }

    func testWrongMagic() throws {
        XCTAssertThrowsError(try loadAll(Array("GIF89a not a checkpoint at all".utf8), as: "x.pth")) { e in
            XCTAssertTrue("\(e)".contains("wrong magic"), "\(e)")
        }
        var st = Fixtures.bytes("tensors.safetensors")
        st[8] = UInt8(ascii: "[")
        XCTAssertThrowsError(try loadAll(st, as: "x.safetensors")) { e in XCTAssertTrue("\(e)".contains("wrong magic"), "\(e)") }
        XCTAssertThrowsError(try loadAll(Fixtures.bytes("deflated.pth"), as: "deflated.pth")) { e in
            XCTAssertTrue("\(e)".contains("is compressed"), "\(e)")
        }
        XCTAssertThrowsError(try loadAll(Fixtures.bytes("legacy_format.pth"), as: "legacy.pth")) { e in
            XCTAssertTrue("\(e)".contains("legacy"), "\(e)")
        }
    }

    func testHeaderLengthLargerThanFile() throws {
        for n: UInt64 in [1000, UInt64(Int.max), UInt64.max, 200_000_000] {
            var b = withUnsafeBytes(of: n.littleEndian) { Array($0) }
            b += Array("{\"a\":{}}".utf8)
            XCTAssertThrowsError(try loadAll(b, as: "x.safetensors")) { e in XCTAssertTrue("\(e)".contains("header length"), "\(e)") }
        }
    }

    /// Header entries that point outside the data or disagree with their shape.
    func testSafetensorsHeaderLies() throws {
        func file(_ header: String, data: Int) -> [UInt8] {
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) } + Array(header.utf8) + [UInt8](repeating: 0, count: data)
        }
        let cases = [
            #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#,            // past the end
            #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,             // shape ≠ bytes
            #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#,  // overflow
            #"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#,
            #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#,
            #"{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#,
            #"{"w":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}"#,
            #"{"w":[]}"#, #"{"__metadata__":{"a":1}}"#, "{not json}",
        ]
        for h in cases {
            XCTAssertThrowsError(try loadAll(file(h, data: 8), as: "x.safetensors"), h) { e in XCTAssertTrue(e is ModelIOError) }
        }
    }

    /// A pickle asking for os.system is refused by name, and nothing runs.
    func testMaliciousPickleIsRefused() throws {
        let marker = NSTemporaryDirectory() + "pwned-\(UUID().uuidString)"
        for name in ["malicious.pkl", "malicious.pth"] {
            XCTAssertThrowsError(name.hasSuffix(".pkl")
                ? try Fixtures.bytes(name).withUnsafeBytes { _ = try Pickle.load($0, path: name) }
                : try loadAll(Fixtures.bytes(name), as: name)) { e in
                guard case let .disallowedGlobal(_, module, fn)? = e as? ModelIOError else { return XCTFail("\(e)") }
                XCTAssertEqual(module + "." + fn, "posix.system")
                XCTAssertTrue("\(e)".contains("'posix.system'"))
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
        // Other code-running globals too, via STACK_GLOBAL at protocol 4.
        for (m, n) in [("builtins", "eval"), ("subprocess", "Popen"), ("torch", "load"), ("builtins", "exec"), ("__builtin__", "open")] {
            var p: [UInt8] = [0x80, 0x04, 0x8C, UInt8(m.utf8.count)] + Array(m.utf8) + [0x8C, UInt8(n.utf8.count)] + Array(n.utf8) + [0x93, 0x2E]
            p.append(0)
            XCTAssertThrowsError(try p.withUnsafeBytes { _ = try Pickle.load($0, path: "p") }) { e in
                XCTAssertTrue("\(e)".contains("'\(m == "__builtin__" ? "builtins" : m).\(n)'"), "\(e)")
            }
        }
        // getattr is accepted only on allowlisted data types (mmengine's HistoryBuffer needs it).
        let getattr = [0x80, 0x02] + Array("c__builtin__\ngetattr\nctorch\nFloatStorage\nX".utf8) + [9, 0, 0, 0]
            + Array("__class__".utf8) + [0x86, 0x52, 0x2E]
        XCTAssertThrowsError(try getattr.withUnsafeBytes { _ = try Pickle.load($0, path: "p") }) { e in
            XCTAssertTrue("\(e)".contains("getattr"), "\(e)")
        }
    }

    /// Lengths larger than the pickle, huge memo indices, and deep nesting.
    func testHostilePickles() throws {
        let cases: [[UInt8]] = [
            [0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E],                 // BINUNICODE of 2 GB
            [0x80, 0x04, 0x8D] + [UInt8](repeating: 0xFF, count: 8) + [0x2E],   // BINUNICODE8 of 2^64-1
            [0x80, 0x02, 0x8B, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E],                 // LONG4 of 2 GB
            [0x80, 0x02, 0x6A, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E],                 // LONG_BINGET never stored
            [0x80, 0x02, 0x61, 0x2E],                                         // APPEND on empty stack
            [0x80, 0x02, 0x4E, 0x4E, 0x52, 0x2E],                             // REDUCE on None
            [0x80, 0x02, 0x4E, 0x4E, 0x2E],                                   // STOP with two values
            [0x80, 0x02, 0x4E],                                               // no STOP
            [0x80, 0x02, 0x69, 0x2E],                                         // INST (unsupported)
        ]
        for c in cases {
            XCTAssertThrowsError(try c.withUnsafeBytes { _ = try Pickle.load($0, path: "p") }, "\(c)") { e in XCTAssertTrue(e is ModelIOError) }
        }
        // 100 000 nested lists: EMPTY_LIST ×N then APPEND ×(N-1). Refused, and released without overflow.
        let n = 100_000
        let deep: [UInt8] = [0x80, 0x02] + [UInt8](repeating: 0x5D, count: n) + [UInt8](repeating: 0x61, count: n - 1) + [0x2E]
        XCTAssertThrowsError(try deep.withUnsafeBytes { _ = try Pickle.load($0, path: "p") }) { e in XCTAssertTrue("\(e)".contains("nested"), "\(e)") }
        // Nested via the memo: each list is appended to its parent while still empty.
        var viaMemo: [UInt8] = [0x80, 0x02]
        for i in 0..<20_000 {
            viaMemo += [0x5D, 0x72] + withUnsafeBytes(of: UInt32(i).littleEndian) { Array($0) } + [0x30]  // EMPTY_LIST LONG_BINPUT POP
        }
        for i in 1..<20_000 {  // memo[i-1].append(memo[i])
            viaMemo += [0x6A] + withUnsafeBytes(of: UInt32(i - 1).littleEndian) { Array($0) }
            viaMemo += [0x6A] + withUnsafeBytes(of: UInt32(i).littleEndian) { Array($0) } + [0x61, 0x30]
        }
        viaMemo += [0x6A, 0, 0, 0, 0, 0x2E]
        XCTAssertThrowsError(try viaMemo.withUnsafeBytes { _ = try Pickle.load($0, path: "p") }) { e in XCTAssertTrue("\(e)".contains("nested"), "\(e)") }
        // Tuples of tuples sharing one child: depth is checked without walking 2^k paths.
        var tuples: [UInt8] = [0x80, 0x02, 0x29]
        for _ in 0..<60 { tuples += [0x32, 0x86] }  // DUP TUPLE2
        tuples += [0x2E]
        XCTAssertNoThrow(try tuples.withUnsafeBytes { _ = try Pickle.load($0, path: "p") })
    }

    /// A pickle tensor whose size/stride reach past its storage, or would expand absurdly.
    func testTensorViewsOutsideTheirStorage() throws {
        let s = ByteStorage([UInt8](repeating: 0, count: 64))
        XCTAssertThrowsError(try TensorData(name: "t", dtype: .f32, shape: [5, 4], storage: s, byteRange: 0..<64))
        XCTAssertThrowsError(try TensorData(name: "t", dtype: .f32, shape: [4], strides: [6], storage: s, byteRange: 0..<64))
        XCTAssertThrowsError(try TensorData(name: "t", dtype: .f32, shape: [2], storageOffset: 15, storage: s, byteRange: 0..<64))
        XCTAssertThrowsError(try TensorData(name: "t", dtype: .f32, shape: [1 << 40], strides: [0], storage: s, byteRange: 0..<64))
        XCTAssertThrowsError(try TensorData(name: "t", dtype: .f32, shape: [Int.max, 2], storage: s, byteRange: 0..<64))
        XCTAssertNoThrow(try TensorData(name: "t", dtype: .f32, shape: [3, 4], strides: [0, 1], storage: s, byteRange: 0..<64))
        XCTAssertThrowsError(try TensorData(name: "t", dtype: .f32, shape: [1], storage: s, byteRange: 0..<65))
    }
}

/// A small deterministic generator for reproducible fuzzing.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
