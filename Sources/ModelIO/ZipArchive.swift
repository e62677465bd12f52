/// A minimal reader for the zip archives `torch.save` writes: STORED (uncompressed) entries, zip64
/// records for large files, 64-byte-aligned data. Entries are slices of the memory-mapped file, so
/// a tensor storage is never copied. Every size and offset is checked against the file.
struct ZipArchive {
    struct Entry {
        let name: String
        /// Byte range of the entry's data within the archive file.
        let range: Range<Int>
    }

    let path: String
    let storage: ByteStorage
    private(set) var entries: [String: Entry] = [:]
    private(set) var names: [String] = []

    static func looksLikeZip(_ storage: ByteStorage) -> Bool {
        ByteReader(storage.buffer).uint(UInt32.self, at: 0) == 0x0403_4B50
    }

    init(path: String, storage: ByteStorage) throws {
        self.path = path
        self.storage = storage
        func bad(_ r: String) -> ModelIOError { .malformed(path: path, reason: "zip archive: " + r) }
        let r = ByteReader(storage.buffer)
        let size = storage.count
        // End of central directory: 22 bytes plus a comment of at most 65535 bytes, at the end.
        guard size >= 22 else { throw bad("only \(size) bytes (truncated)") }
        var eocd = -1
        var o = size - 22
        let lowest = max(0, size - 22 - 65535)
        let b = storage.buffer
        while o >= lowest {
            if b[o] == 0x50, b[o + 1] == 0x4B, b[o + 2] == 0x05, b[o + 3] == 0x06 { eocd = o; break }
            o -= 1
        }
        guard eocd >= 0 else { throw bad("no end-of-central-directory record (truncated or not a zip file)") }
        var count = Int(r.uint(UInt16.self, at: eocd + 10)!)
        var cdSize = Int(r.uint(UInt32.self, at: eocd + 12)!)
        var cdOffset = Int(r.uint(UInt32.self, at: eocd + 16)!)
        if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF || r.uint(UInt32.self, at: eocd - 20) == 0x0706_4B50 {
            // zip64: a locator 20 bytes before the EOCD points at the zip64 EOCD record.
            guard r.uint(UInt32.self, at: eocd - 20) == 0x0706_4B50, let z64 = r.uint(UInt64.self, at: eocd - 12),
                  z64 <= UInt64(size), r.uint(UInt32.self, at: Int(z64)) == 0x0606_4B50,
                  let c = r.uint(UInt64.self, at: Int(z64) + 32), let s = r.uint(UInt64.self, at: Int(z64) + 40),
                  let off = r.uint(UInt64.self, at: Int(z64) + 48)
            else { throw bad("broken zip64 end-of-central-directory record") }
            guard c <= UInt64(size), s <= UInt64(size), off <= UInt64(size) else { throw bad("zip64 sizes exceed the file") }
            count = Int(c); cdSize = Int(s); cdOffset = Int(off)
        }
        guard cdOffset <= size, cdSize <= size - cdOffset, count <= cdSize / 46 + 1 else {
            throw bad("central directory (\(count) entries, \(cdSize) bytes at \(cdOffset)) lies outside the \(size)-byte file")
        }
        var p = cdOffset
        for _ in 0..<count {
            guard r.uint(UInt32.self, at: p) == 0x0201_4B50, p + 46 <= size else { throw bad("bad central directory entry at \(p)") }
            let flags = r.uint(UInt16.self, at: p + 8)!
            let method = r.uint(UInt16.self, at: p + 10)!
            var compressed = UInt64(r.uint(UInt32.self, at: p + 20)!)
            var uncompressed = UInt64(r.uint(UInt32.self, at: p + 24)!)
            let nameLen = Int(r.uint(UInt16.self, at: p + 28)!)
            let extraLen = Int(r.uint(UInt16.self, at: p + 30)!)
            let commentLen = Int(r.uint(UInt16.self, at: p + 32)!)
            var localOffset = UInt64(r.uint(UInt32.self, at: p + 42)!)
            guard let nameBytes = storage.slice(p + 46, nameLen), let extra = storage.slice(p + 46 + nameLen, extraLen) else {
                throw bad("central directory entry at \(p) runs past the end")
            }
            let name = String(decoding: nameBytes, as: UTF8.self)
            // zip64 extra field (id 1): 8-byte values for those fields that are 0xFFFFFFFF, in order.
            var e = ByteReader(extra)
            while e.remaining >= 4 {
                let id = e.read(UInt16.self)!, len = Int(e.read(UInt16.self)!)
                guard let body = e.readBytes(len) else { throw bad("bad extra field in entry '\(name)'") }
                if id == 1 {
                    var b = ByteReader(body)
                    if uncompressed == 0xFFFF_FFFF { guard let v = b.read(UInt64.self) else { throw bad("short zip64 field in '\(name)'") }; uncompressed = v }
                    if compressed == 0xFFFF_FFFF { guard let v = b.read(UInt64.self) else { throw bad("short zip64 field in '\(name)'") }; compressed = v }
                    if localOffset == 0xFFFF_FFFF { guard let v = b.read(UInt64.self) else { throw bad("short zip64 field in '\(name)'") }; localOffset = v }
                }
            }
            if flags & 1 != 0 { throw ModelIOError.unsupported(path: path, reason: "zip entry '\(name)' is encrypted") }
            guard compressed <= UInt64(size), localOffset <= UInt64(size) else { throw bad("entry '\(name)' sizes exceed the file") }
            // The local header repeats the name and has its own extra field (torch pads data to 64 bytes with it).
            let lo = Int(localOffset)
            guard r.uint(UInt32.self, at: lo) == 0x0403_4B50, let ln = r.uint(UInt16.self, at: lo + 26),
                  let le = r.uint(UInt16.self, at: lo + 28) else { throw bad("bad local header for entry '\(name)'") }
            let start = lo + 30 + Int(ln) + Int(le)
            guard start <= size, Int(compressed) <= size - start else {
                throw bad("entry '\(name)' (\(compressed) bytes at \(start)) runs past the end of the \(size)-byte file (truncated?)")
            }
            if method != 0 {
                throw ModelIOError.unsupported(path: path, reason: "zip entry '\(name)' is compressed (method \(method)); "
                    + "torch.save writes uncompressed entries, so re-save the checkpoint with torch.save")
            }
            guard compressed == uncompressed else { throw bad("stored entry '\(name)' has different compressed and uncompressed sizes") }
            if entries[name] == nil { names.append(name) }
            entries[name] = Entry(name: name, range: start..<(start + Int(compressed)))
            p += 46 + nameLen + extraLen + commentLen
        }
    }

    func bytes(_ entry: Entry) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: storage.buffer[entry.range])
    }
}
