/// Writes a zip archive the way `torch.save` lays one out: STORED (uncompressed) entries whose data
/// starts on a 64-byte boundary, so a reader can map a tensor storage in place. The padding lives
/// in each local header's extra field (id 0x4246, as PyTorch's writer does). Entries and offsets
/// past 4 GiB get ZIP64 extra fields and a ZIP64 end record. Names are written as given (UTF-8) and
/// timestamps are fixed, so the same input always gives the same bytes.
struct ZipWriter {
    private struct CentralEntry {
        let name: [UInt8]
        let crc: UInt32
        let size: UInt64
        let offset: UInt64
    }

    static let alignment = 64
    /// Sizes and offsets at or above this go into ZIP64 fields; lowered by tests to reach that
    /// code without writing 4 GiB.
    let zip64Threshold: UInt64
    private let sink: AtomicFile.Writer
    private let path: String
    private var offset: UInt64 = 0
    private var entries: [CentralEntry] = []
    private var names = Set<String>()

    init(sink: AtomicFile.Writer, path: String, zip64Threshold: UInt64 = 0xFFFF_FFFF) {
        self.sink = sink
        self.path = path
        self.zip64Threshold = zip64Threshold
    }

    /// Adds one entry holding `data`.
    mutating func add(name: String, data: UnsafeRawBufferPointer) throws {
        guard names.insert(name).inserted else {
            throw ModelIOError.io(path: path, reason: "zip entry '\(name)' written twice (a bug in the caller)")
        }
        let nameBytes = Array(name.utf8)
        guard nameBytes.count <= 0xFFFF else { throw ModelIOError.io(path: path, reason: "zip entry name longer than 65535 bytes") }
        let size = UInt64(data.count)
        let crc = CRC32.checksum(data)
        let zip64 = size >= zip64Threshold
        var extra = ByteBuffer()
        if zip64 {
            extra.u16(0x0001); extra.u16(16); extra.u64(size); extra.u64(size)
        }
        // Pad so that the data begins on a multiple of 64 bytes.
        let unpadded = Int(offset % UInt64(ZipWriter.alignment)) + 30 + nameBytes.count + extra.bytes.count + 4
        let padding = (ZipWriter.alignment - unpadded % ZipWriter.alignment) % ZipWriter.alignment
        extra.u16(0x4246); extra.u16(UInt16(padding)); extra.zeros(padding)

        var header = ByteBuffer()
        header.u32(0x0403_4B50)
        header.u16(zip64 ? 45 : 20)              // version needed to extract
        header.u16(0x0800)                       // flags: names are UTF-8
        header.u16(0)                            // method: stored
        header.u16(0); header.u16(0x0021)        // time 00:00, date 1980-01-01
        header.u32(crc)
        header.u32(zip64 ? 0xFFFF_FFFF : UInt32(size))
        header.u32(zip64 ? 0xFFFF_FFFF : UInt32(size))
        header.u16(UInt16(nameBytes.count))
        header.u16(UInt16(extra.bytes.count))
        header.append(nameBytes)
        header.append(extra.bytes)
        entries.append(CentralEntry(name: nameBytes, crc: crc, size: size, offset: offset))
        try emit(header.bytes)
        try emit(data)
    }

    mutating func add(name: String, bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try add(name: name, data: $0) }
    }

    /// Writes the central directory and the end records. Nothing may be added afterwards.
    mutating func finish() throws {
        let directoryStart = offset
        var directory = ByteBuffer()
        for e in entries {
            let bigSize = e.size >= zip64Threshold, bigOffset = e.offset >= zip64Threshold
            var extra = ByteBuffer()
            if bigSize || bigOffset {
                extra.u16(0x0001)
                extra.u16(UInt16((bigSize ? 16 : 0) + (bigOffset ? 8 : 0)))
                if bigSize { extra.u64(e.size); extra.u64(e.size) }
                if bigOffset { extra.u64(e.offset) }
            }
            let version: UInt16 = bigSize || bigOffset ? 45 : 20
            directory.u32(0x0201_4B50)
            directory.u16(version)                  // version made by (MS-DOS attributes)
            directory.u16(version)                  // version needed to extract
            directory.u16(0x0800)
            directory.u16(0)
            directory.u16(0); directory.u16(0x0021)
            directory.u32(e.crc)
            directory.u32(bigSize ? 0xFFFF_FFFF : UInt32(e.size))
            directory.u32(bigSize ? 0xFFFF_FFFF : UInt32(e.size))
            directory.u16(UInt16(e.name.count))
            directory.u16(UInt16(extra.bytes.count))
            directory.u16(0)                        // comment length
            directory.u16(0)                        // disk number
            directory.u16(0)                        // internal attributes
            directory.u32(0)                        // external attributes
            directory.u32(bigOffset ? 0xFFFF_FFFF : UInt32(e.offset))
            directory.append(e.name)
            directory.append(extra.bytes)
        }
        let directorySize = UInt64(directory.bytes.count)
        let count = UInt64(entries.count)
        let needs64 = count >= 0xFFFF || directorySize >= zip64Threshold || directoryStart >= zip64Threshold
        if needs64 {
            let recordStart = directoryStart + directorySize
            directory.u32(0x0606_4B50)
            directory.u64(44)                       // size of the rest of this record
            directory.u16(45); directory.u16(45)
            directory.u32(0); directory.u32(0)      // this disk, disk with the directory
            directory.u64(count); directory.u64(count)
            directory.u64(directorySize)
            directory.u64(directoryStart)
            directory.u32(0x0706_4B50)              // locator
            directory.u32(0)
            directory.u64(recordStart)
            directory.u32(1)
        }
        directory.u32(0x0605_4B50)
        directory.u16(0); directory.u16(0)
        directory.u16(needs64 ? 0xFFFF : UInt16(count))
        directory.u16(needs64 ? 0xFFFF : UInt16(count))
        directory.u32(needs64 ? 0xFFFF_FFFF : UInt32(directorySize))
        directory.u32(needs64 ? 0xFFFF_FFFF : UInt32(directoryStart))
        directory.u16(0)                            // comment length
        try emit(directory.bytes)
    }

    private mutating func emit(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try emit($0) }
    }

    private mutating func emit(_ bytes: UnsafeRawBufferPointer) throws {
        if !bytes.isEmpty { try sink.write(bytes) }
        offset += UInt64(bytes.count)
    }
}

/// Little-endian fields appended to a byte array.
struct ByteBuffer {
    private(set) var bytes: [UInt8] = []
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func zeros(_ n: Int) { bytes += repeatElement(0, count: n) }
    mutating func append(_ b: [UInt8]) { bytes += b }
}

/// CRC-32 (the zip/zlib polynomial 0xEDB88320), eight bytes per step ("slicing-by-8") so that
/// checksumming a large checkpoint costs little next to writing it.
enum CRC32 {
    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
            t[i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 { t[k * 256 + i] = (t[(k - 1) * 256 + i] >> 8) ^ t[Int(t[(k - 1) * 256 + i] & 0xFF)] }
        }
        return t
    }()

    static func checksum(_ data: UnsafeRawBufferPointer) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        let n = data.count
        guard n > 0, let base = data.baseAddress else { return 0 }
        tables.withUnsafeBufferPointer { t in
            var i = 0
            while i + 8 <= n {
                let lo = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self)) ^ c
                let hi = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
                c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                c = t[Int((c ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)] ^ (c >> 8)
                i += 1
            }
        }
        return ~c
    }
}
