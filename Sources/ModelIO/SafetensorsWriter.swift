import Foundation

/// Writes safetensors files, atomically (see `AtomicFile`). Tensors are stored contiguous and
/// little-endian in the order given; the header is padded with spaces so the data starts at a
/// multiple of `alignment` bytes (8 by default; 64 puts converted weight rows on cache lines).
public enum SafetensorsWriter {
    public static func write(_ tensors: [TensorData], metadata: [String: String] = [:], alignment: Int = 8, to path: String) throws {
        var seen = Set<String>()
        var header = "{"
        var first = true
        func add(_ s: String) { header += (first ? "" : ",") + s; first = false }
        if !metadata.isEmpty {
            add("\"__metadata__\":{" + metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
                .joined(separator: ",") + "}")
        }
        var offset = 0
        for t in tensors {
            guard seen.insert(t.name).inserted, t.name != "__metadata__" else {
                throw ModelIOError.io(path: path, reason: "tensor name '\(t.name)' is used twice or reserved")
            }
            let shape = t.shape.map(String.init).joined(separator: ",")
            add("\(jsonString(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + t.byteCount)]}")
            offset += t.byteCount
        }
        header += "}"
        while ((8 + header.utf8.count) % max(alignment, 8)) != 0 { header += " " }
        var length = UInt64(header.utf8.count).littleEndian
        try AtomicFile.write(to: path) { w in
            try withUnsafeBytes(of: &length) { try w.write($0) }
            try w.write(header)
            for t in tensors { try t.withContiguousBytes { try w.write($0) } }
        }
    }

    public static func write(_ dict: StateDict, metadata: [String: String] = [:], to path: String) throws {
        try write(dict.all, metadata: metadata, to: path)
    }

    /// A JSON string literal.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
