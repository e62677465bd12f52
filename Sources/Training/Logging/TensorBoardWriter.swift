#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes scalar curves as a TensorBoard event file, so `tensorboard --logdir WORKDIR` shows a run
/// live without TensorFlow or protobuf.
///
/// The file is a TFRecord stream: each record is `uint64 length, uint32 masked_crc32c(length),
/// data, uint32 masked_crc32c(data)`, where data is a serialized `Event`. The first event carries
/// `file_version: "brain.Event:2"`; each `add` appends one event whose summary holds the scalars.
/// Every `add` goes to the kernel in a single `write`, so TensorBoard sees it at once and a killed
/// run leaves only whole records. A failed write is cut back off the file. Each writer opens a new
/// file (`events.out.tfevents.<unix seconds>.<hostname>`), so a resumed run adds a file beside the
/// old one and TensorBoard merges them.
public final class TensorBoardWriter {
    /// The event file this writer appends to.
    public let path: String
    private var fd: Int32
    /// Bytes known to be whole records; a failed write is truncated back to here.
    private var size: Int64 = 0

    /// Creates `directory` if needed and starts a new event file in it.
    public init(directory: String, wallTime: Double = Date().timeIntervalSince1970) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw LoggingError(path: directory, reason: "cannot create the log directory (\(error.localizedDescription)); "
                + "check the path and its permissions")
        }
        let base = (directory.hasSuffix("/") ? directory : directory + "/")
            + "events.out.tfevents.\(Int64(wallTime.rounded(.down))).\(TensorBoardWriter.hostname())"
        // Two writers started in the same second on one host get distinct names.
        var candidate = base
        var attempt = 0
        var fd: Int32 = -1
        while true {
            fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0o644)
            if fd >= 0 || errno != EEXIST || attempt >= 1000 { break }
            attempt += 1
            candidate = base + ".\(getpid()).\(attempt)"
        }
        guard fd >= 0 else {
            throw LoggingError(path: candidate, reason: "cannot create the TensorBoard event file: "
                + "\(String(cString: strerror(errno))); check that the directory is writable")
        }
        self.fd = fd
        self.path = candidate
        var event = ProtobufEncoder()
        event.double(1, wallTime)
        event.int64(2, 0)
        event.string(3, "brain.Event:2")
        try append(TensorBoardWriter.record(event.bytes))
    }

    deinit { close() }

    /// Appends one event holding `scalars` (in the order given) at `step`.
    public func add(scalars: [(tag: String, value: Double)], step: Int, wallTime: Double = Date().timeIntervalSince1970) throws {
        guard !scalars.isEmpty else { return }
        var summary = ProtobufEncoder()
        for (tag, value) in scalars {
            var v = ProtobufEncoder()
            v.string(1, tag)
            v.float(2, Float(value))
            summary.lengthDelimited(1, v.bytes)
        }
        var event = ProtobufEncoder()
        event.double(1, wallTime)
        event.int64(2, Int64(step))
        event.lengthDelimited(5, summary.bytes)
        try append(TensorBoardWriter.record(event.bytes))
    }

    /// Appends one event holding `scalars`, tags in sorted order.
    public func add(scalars: [String: Double], step: Int, wallTime: Double = Date().timeIntervalSince1970) throws {
        try add(scalars: scalars.sorted { $0.key < $1.key }.map { (tag: $0.key, value: $0.value) }, step: step, wallTime: wallTime)
    }

    /// Closes the file; later `add` calls throw. Called on deinit.
    public func close() {
        if fd >= 0 { _ = systemClose(fd); fd = -1 }
    }

    /// One TFRecord: length, masked CRC of the length, data, masked CRC of the data.
    static func record(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 16)
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian) { Array($0) }
        out += length
        withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(length)).littleEndian) { out += $0 }
        out += data
        withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(data)).littleEndian) { out += $0 }
        return out
    }

    private func append(_ bytes: [UInt8]) throws {
        guard fd >= 0 else { throw LoggingError(path: path, reason: "the TensorBoard writer was closed; create a new one") }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                _ = ftruncate(fd, off_t(size))  // leave only whole records behind
                throw LoggingError(path: path, reason: "cannot append to the TensorBoard event file: \(reason); "
                    + "free disk space or point the log directory elsewhere")
            }
            done += n
        }
        size += Int64(bytes.count)
    }

    /// This machine's name as TensorBoard's own writers put it in file names (no `/`).
    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(cString: buffer).replacingOccurrences(of: "/", with: "_")
        return name.isEmpty ? "localhost" : name
    }
}

/// `close(2)`, out of reach of the method named `close` inside the class.
private func systemClose(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
    return Glibc.close(fd)
    #else
    return Darwin.close(fd)
    #endif
}
