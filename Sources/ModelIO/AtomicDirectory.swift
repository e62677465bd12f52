import Foundation

/// Writes a directory so that its name never shows a half-written one: the files go into a
/// temporary sibling, which then takes the name (a previous directory there is moved aside first
/// and removed after). Like `AtomicFile`, for outputs made of several files (an HF model folder).
public enum AtomicDirectory {
    /// Runs `body` with the path of an empty temporary directory beside `path`, then puts that
    /// directory at `path`. If `body` throws, the temporary directory is removed and whatever was
    /// at `path` is left untouched. `path` may be absent or a directory; a file there is refused.
    public static func write(to path: String, _ body: (String) throws -> Void) throws {
        let fm = FileManager.default
        let target = URL(fileURLWithPath: path).standardizedFileURL
        let parent = target.deletingLastPathComponent()
        let tag = "\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        let temporary = parent.appendingPathComponent(".\(target.lastPathComponent).partial-\(tag)")
        let retired = parent.appendingPathComponent(".\(target.lastPathComponent).old-\(tag)")
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: target.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ModelIOError.io(path: path, reason: "is a file; give a directory path (it is created, or replaced when it is a directory)")
        }
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
            try fm.createDirectory(at: temporary, withIntermediateDirectories: false)
        } catch {
            throw ModelIOError.io(path: path, reason: "cannot create a temporary directory beside it: \((error as NSError).localizedDescription)")
        }
        do {
            try body(temporary.path)
        } catch {
            try? fm.removeItem(at: temporary)
            throw error
        }
        do {
            if fm.fileExists(atPath: target.path) { try fm.moveItem(at: target, to: retired) }
            try fm.moveItem(at: temporary, to: target)
            try? fm.removeItem(at: retired)
        } catch {
            try? fm.removeItem(at: temporary)
            if !fm.fileExists(atPath: target.path), fm.fileExists(atPath: retired.path) { try? fm.moveItem(at: retired, to: target) }
            throw ModelIOError.io(path: path, reason: "cannot move the finished directory into place: \((error as NSError).localizedDescription)")
        }
    }
}
