import Foundation

/// Reads safetensors files (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
/// length N, N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}`,
/// then the raw little-endian data. The file is memory-mapped and tensors are slices of the mapping,
/// so opening a file copies nothing. Every number in the header is checked against the file first.
public struct SafetensorsFile: Sendable {
    /// Largest header we accept (the format's reference implementation uses the same limit).
    public static let maxHeaderBytes = 100_000_000

    public let path: String
    public let tensors: StateDict
    public let metadata: [String: String]

    public init(path: String) throws {
        try self.init(path: path, storage: ByteStorage(mapping: path))
    }

    init(path: String, storage: ByteStorage) throws {
        self.path = path
        func bad(_ r: String) -> ModelIOError { .malformed(path: path, reason: r) }
        let r = ByteReader(storage.buffer)
        guard let n64 = r.uint(UInt64.self, at: 0) else {
            throw bad("only \(storage.count) bytes; a safetensors file starts with an 8-byte header length")
        }
        guard n64 <= UInt64(storage.count - 8) else {
            throw bad("header length \(n64) is larger than the rest of the \(storage.count)-byte file (truncated, or not safetensors)")
        }
        guard n64 <= UInt64(SafetensorsFile.maxHeaderBytes) else {
            throw bad("header length \(n64) exceeds the \(SafetensorsFile.maxHeaderBytes)-byte limit")
        }
        let headerLength = Int(n64)
        let header = Data(UnsafeRawBufferPointer(rebasing: storage.buffer[8..<(8 + headerLength)]))
        guard header.first == UInt8(ascii: "{") else { throw bad("the header does not start with '{' (wrong magic: not a safetensors file)") }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: header) } catch {
            throw bad("the header is not valid JSON (\(error.localizedDescription))")
        }
        guard let dict = json as? [String: Any] else { throw bad("the header is not a JSON object") }
        let dataStart = 8 + headerLength
        let dataCount = storage.count - dataStart
        var meta: [String: String] = [:]
        var entries: [(begin: Int, TensorData)] = []
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw bad("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw bad("__metadata__ value for '\(k)' is not a string") }
                    meta[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any] else { throw bad("entry '\(name)' is not an object") }
            guard let dtName = info["dtype"] as? String else { throw bad("tensor '\(name)' has no dtype") }
            guard let dtype = DType(rawValue: dtName) else {
                throw ModelIOError.unsupported(path: path, reason: "tensor '\(name)' has dtype \(dtName); supported: "
                    + DType.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard let shapeAny = info["shape"] as? [Any], let shape = SafetensorsFile.ints(shapeAny), shape.allSatisfy({ $0 >= 0 }) else {
                throw bad("tensor '\(name)' has no valid shape (a list of non-negative integers)")
            }
            guard let offAny = info["data_offsets"] as? [Any], let offs = SafetensorsFile.ints(offAny), offs.count == 2 else {
                throw bad("tensor '\(name)' has no valid data_offsets [begin, end]")
            }
            let (begin, end) = (offs[0], offs[1])
            guard begin >= 0, begin <= end, end <= dataCount else {
                throw bad("tensor '\(name)' data_offsets [\(begin), \(end)] lie outside the \(dataCount) data bytes (truncated file?)")
            }
            guard let n = TensorData.elementCount(shape), case let (bytes, o) = n.multipliedReportingOverflow(by: dtype.byteSize),
                  !o, bytes == end - begin else {
                throw bad("tensor '\(name)' of shape \(shape) and dtype \(dtName) does not fill its \(end - begin) bytes")
            }
            let t = try TensorData(name: name, dtype: dtype, shape: shape, storage: storage,
                                   byteRange: (dataStart + begin)..<(dataStart + end))
            entries.append((begin, t))
        }
        entries.sort { $0.begin != $1.begin ? $0.begin < $1.begin : $0.1.name < $1.1.name }
        tensors = StateDict(entries.map(\.1))
        metadata = meta
    }

    /// JSON numbers as Ints, or nil if any is not a whole number in range.
    static func ints(_ a: [Any]) -> [Int]? {
        var out: [Int] = []
        for x in a {
            // Integers only: a fraction, a string or a number past 2^53 is rejected.
            if !isJSONBool(x), let i = x as? Int, abs(i) < (1 << 53) { out.append(i); continue }
            return nil
        }
        return out
    }
}
