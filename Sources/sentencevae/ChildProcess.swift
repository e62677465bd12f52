import Foundation

/// Helper processes of the benchmarks (our own binary measuring one model, PyTorch reference
/// scripts), each printing its result as one JSON object on the last line of its standard output.
enum ChildProcess {
    /// Runs `executable` with `arguments` (its standard error passed through) and parses that line.
    static func json(executable: String, _ arguments: [String], what: String) throws -> [String: Any] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.standardError
        do { try p.run() } catch { throw CLIError("\(what): could not start \(executable): \(error.localizedDescription)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CLIError("\(what): the run failed (exit \(p.terminationStatus))") }
        guard let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw CLIError("\(what): no JSON result on its standard output")
        }
        return object
    }

    /// A command line the user gave (e.g. --torch '/tmp/venv/bin/python Tools/reference/…py'),
    /// split at spaces and looked up on PATH, with `arguments` appended.
    static func json(command: String, _ arguments: [String], what: String) throws -> [String: Any] {
        try json(executable: "/usr/bin/env", command.split(separator: " ").map(String.init) + arguments, what: what)
    }
}
