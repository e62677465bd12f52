import Foundation
import ModelIO

/// The checkpoints of a work directory. Each checkpoint is two files under `checkpoints/`:
/// `iter_NNNNNNN.safetensors`, the model (EMA weights: what `svae`/`sllm`/`llm --checkpoint` and
/// `inspect` load), and `iter_NNNNNNN.state.safetensors`, what resuming needs (raw weights, AdamW
/// moments, step counts, EMA progress, best metric). Both are written atomically, the model first;
/// a checkpoint counts only once its state file exists, so a kill at any moment leaves the newest
/// complete checkpoint loadable and nothing half-written is ever picked up.
///
/// `latest.safetensors`, `best.safetensors` and `final.safetensors` in the work directory are hard
/// links to model files, replaced atomically (a link survives the pruning of its checkpoint).
public struct CheckpointStore {
    public let workDirectory: String
    public var directory: String { workDirectory + "/checkpoints" }

    public init(workDirectory: String) throws {
        self.workDirectory = workDirectory
        do {
            try FileManager.default.createDirectory(atPath: workDirectory + "/checkpoints", withIntermediateDirectories: true)
        } catch {
            throw ModelIOError.io(path: workDirectory, reason: "cannot create the work directory: \(error.localizedDescription)")
        }
    }

    public func modelPath(iter: Int) -> String { directory + "/" + String(format: "iter_%07d.safetensors", iter) }
    public func statePath(iter: Int) -> String { directory + "/" + String(format: "iter_%07d.state.safetensors", iter) }
    public var latestPath: String { workDirectory + "/latest.safetensors" }
    public var bestPath: String { workDirectory + "/best.safetensors" }
    public var finalPath: String { workDirectory + "/final.safetensors" }

    /// Iterations that have a complete checkpoint (both files), oldest first.
    public func completeIterations() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var iters: [Int] = []
        for name in names where name.hasPrefix("iter_") && name.hasSuffix(".state.safetensors") {
            let digits = name.dropFirst("iter_".count).dropLast(".state.safetensors".count)
            if let n = Int(digits), FileManager.default.fileExists(atPath: modelPath(iter: n)) { iters.append(n) }
        }
        return iters.sorted()
    }

    /// Deletes all but the newest `keep` complete checkpoints (state file first, so a checkpoint
    /// being deleted is never mistaken for a complete one), and any model file without a state
    /// file (left by a kill between the two writes).
    public func prune(keep: Int) {
        let complete = completeIterations()
        for iter in complete.dropLast(max(keep, 1)) {
            unlink(statePath(iter: iter))
            unlink(modelPath(iter: iter))
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let kept = Set(completeIterations())
        for name in names where name.hasPrefix("iter_") && name.hasSuffix(".safetensors") && !name.hasSuffix(".state.safetensors") {
            if let n = Int(name.dropFirst("iter_".count).dropLast(".safetensors".count)), !kept.contains(n) {
                unlink(directory + "/" + name)
            }
        }
        // Temporary files of interrupted atomic writes.
        for name in names where name.hasPrefix(".") && name.contains(".tmp-") { unlink(directory + "/" + name) }
    }

    /// Points `link` at `target` atomically (a hard link made beside it, then renamed over it).
    public func link(_ link: String, to target: String) throws {
        let tmp = link + ".tmp-\(getpid())"
        unlink(tmp)
        guard Foundation.link(target, tmp) == 0 else {
            throw ModelIOError.io(path: link, reason: "cannot link to \(target): \(String(cString: strerror(errno)))")
        }
        guard rename(tmp, link) == 0 else {
            unlink(tmp)
            throw ModelIOError.io(path: link, reason: "cannot replace: \(String(cString: strerror(errno)))")
        }
    }
}
