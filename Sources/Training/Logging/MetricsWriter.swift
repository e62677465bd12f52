import Foundation
import ModelIO

/// `WORKDIR/metrics.jsonl`: one JSON object per logged step (`iter`, `loss`, `lr`, `tokens_per_s`,
/// …) and per evaluation (`iter`, `eval_ppl`, …), appended and flushed line by line so a kill loses
/// at most the line being written (readers skip a torn last line).
public final class MetricsWriter {
    public let path: String
    private let handle: FileHandle

    /// Opens the log for appending. `resumeAt`: lines of iterations after it (written by the
    /// interrupted run after its last checkpoint) are dropped first, atomically, so the log matches
    /// the run that continues.
    public init(path: String, resumeAt: Int? = nil) throws {
        self.path = path
        let fm = FileManager.default
        if let resumeAt, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let kept = text.split(separator: "\n").filter { line in
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let iter = obj["iter"] as? Int else { return false }
                return iter <= resumeAt
            }
            try AtomicFile.write(Array((kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).utf8), to: path)
        } else if resumeAt == nil {
            try AtomicFile.write([], to: path)
        }
        if !fm.fileExists(atPath: path) { try AtomicFile.write([], to: path) }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw ModelIOError.io(path: path, reason: "cannot open for appending")
        }
        h.seekToEndOfFile()
        handle = h
    }

    deinit { try? handle.close() }

    public func append(_ values: [String: Any]) throws {
        var data = try JSONSerialization.data(withJSONObject: values, options: [.sortedKeys])
        data.append(UInt8(ascii: "\n"))
        handle.write(data)
    }
}
