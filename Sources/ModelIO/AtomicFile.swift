#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes a file so that a crash never leaves a half-written file under the real name: the bytes go
/// to a temporary file in the same directory, which is flushed to disk and then renamed over the
/// destination (rename is atomic within one file system).
public enum AtomicFile {
    /// A sink for the bytes of the file being written.
    public final class Writer {
        fileprivate let fd: Int32
        fileprivate let path: String
        fileprivate init(fd: Int32, path: String) { self.fd = fd; self.path = path }

        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            var done = 0
            while done < bytes.count {
                #if canImport(Glibc)
                let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
                #else
                let n = Darwin.write(fd, bytes.baseAddress! + done, bytes.count - done)
                #endif
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ModelIOError.io(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
                }
                done += n
            }
        }

        public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
        public func write(_ string: String) throws { try write(Array(string.utf8)) }
    }

    /// Runs `body` to produce the file's bytes, then moves them to `path`. If `body` throws, the
    /// temporary file is removed and whatever was at `path` before is left untouched.
    public static func write(to path: String, _ body: (Writer) throws -> Void) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let tmp = (dir.isEmpty ? "" : dir + "/") + ".\(base).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            throw ModelIOError.io(path: path, reason: "cannot create a temporary file beside it: \(String(cString: strerror(errno)))")
        }
        var ok = false
        defer {
            if !ok { close(fd); unlink(tmp) }
        }
        try body(Writer(fd: fd, path: path))
        guard fsync(fd) == 0 else { throw ModelIOError.io(path: path, reason: "fsync failed: \(String(cString: strerror(errno)))") }
        guard close(fd) == 0 else {
            unlink(tmp); ok = true
            throw ModelIOError.io(path: path, reason: "close failed: \(String(cString: strerror(errno)))")
        }
        ok = true
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw ModelIOError.io(path: path, reason: "cannot rename the finished file into place: \(reason)")
        }
    }

    /// Writes `data` atomically.
    public static func write(_ data: [UInt8], to path: String) throws {
        try write(to: path) { try $0.write(data) }
    }
}
