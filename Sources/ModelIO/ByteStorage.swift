import CPUKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Immutable bytes that tensors point into: a read-only memory mapping of a whole file, or an
/// owned buffer. Tensors keep it alive, so a mapping lives exactly as long as a tensor uses it.
public final class ByteStorage: @unchecked Sendable {
    public let base: UnsafeRawPointer?
    public let count: Int
    private let release: (() -> Void)?

    /// Maps `path` read-only. An empty file gives an empty storage.
    public init(mapping path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ModelIOError.io(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ModelIOError.io(path: path, reason: "cannot stat: \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw ModelIOError.io(path: path, reason: "not a regular file") }
        let size = Int(st.st_size)
        if size == 0 {
            base = nil; count = 0; release = nil
            return
        }
        let p = try Self.map(fd, size: size, path: path)
        base = UnsafeRawPointer(p); count = size
        release = { munmap(p, size) }
    }

    /// Maps `size` bytes of `fd` read-only. On Linux a large file goes at a 2 MB-aligned address
    /// with MADV_HUGEPAGE, so the page cache's 2 MB folios (ext4 and xfs make them) are mapped
    /// whole: decoding's pass over 250 MB of weights then needs 125 TLB entries instead of 64,000
    /// (streaming bf16 rows ran 5-15 % faster so in a microbenchmark, AMD EPYC, 2 threads).
    private static func map(_ fd: Int32, size: Int, path: String) throws -> UnsafeMutableRawPointer {
        #if os(Linux)
        if size >= 4 << 20, let p = cpu_kernels_map_file_huge(fd, size) { return p }
        #endif
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw ModelIOError.io(path: path, reason: "cannot map: \(String(cString: strerror(errno)))")
        }
        return p
    }

    /// Takes a copy of `bytes`.
    public init(copying bytes: UnsafeRawBufferPointer) {
        count = bytes.count
        if bytes.count == 0 { base = nil; release = nil; return }
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
        p.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        base = UnsafeRawPointer(p)
        release = { p.deallocate() }
    }

    /// Bytes that `owner` keeps alive (no copy): e.g. a converted weight matrix about to be written.
    public init(borrowing bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        count = bytes.count
        base = bytes.count == 0 ? nil : bytes.baseAddress
        release = { withExtendedLifetime(owner) {} }
    }

    public convenience init(_ bytes: [UInt8]) {
        self.init(copying: bytes.withUnsafeBytes { $0 })
    }

    deinit { release?() }

    public var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// `count` bytes at `offset`, bounds-checked.
    func slice(_ offset: Int, _ length: Int) -> UnsafeRawBufferPointer? {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else { return nil }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + length)])
    }
}

/// Little-endian reads from untrusted bytes; every read is bounds-checked and returns nil past the end.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes; self.position = position
    }

    var remaining: Int { bytes.count - position }

    func u8(at o: Int) -> UInt8? { o >= 0 && o < bytes.count ? bytes[o] : nil }

    func uint<T: FixedWidthInteger>(_: T.Type, at o: Int) -> T? {
        let n = MemoryLayout<T>.size
        guard o >= 0, o <= bytes.count - n else { return nil }
        var v: T = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[o..<(o + n)])) }
        return T(littleEndian: v)
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard let v = uint(T.self, at: position) else { return nil }
        position += MemoryLayout<T>.size
        return v
    }

    mutating func readBytes(_ n: Int) -> UnsafeRawBufferPointer? {
        guard n >= 0, n <= remaining else { return nil }
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }
}
