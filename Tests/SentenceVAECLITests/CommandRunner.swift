import Foundation
import XCTest

/// Runs the built `sentencevae` binary (next to the test bundle) the way a script would.
enum CommandRunner {
    static var binary: URL {
        Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("sentencevae")
    }

    /// A file (or, with "", the folder) under this target's Fixtures/.
    static func fixture(_ name: String) -> String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }

    struct Output {
        let status: Int32
        let out: String
        let err: String
    }

    /// `environment` entries are added to (or, with nil values, removed from) this process's environment.
    static func run(_ arguments: [String], in directory: String? = nil, environment: [String: String?] = [:]) throws -> Output {
        try run(executable: binary, arguments, in: directory, environment: environment)
    }

    /// Runs another program (such as `mpirun` around the binary) the same way.
    static func run(executable: URL, _ arguments: [String], in directory: String? = nil, environment: [String: String?] = [:]) throws -> Output {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("build the sentencevae executable first (swift build)")
        }
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if !environment.isEmpty {
            var merged = ProcessInfo.processInfo.environment
            for (key, value) in environment { merged[key] = value }
            p.environment = merged
        }
        let output = Pipe(), error = Pipe()
        p.standardOutput = output
        p.standardError = error
        try p.run()
        // Read both pipes at once so neither fills up and blocks the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box(), done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errBox.data = error.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        done.wait()
        return Output(status: p.terminationStatus, out: String(decoding: outData, as: UTF8.self), err: String(decoding: errBox.data, as: UTF8.self))
    }

    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }
}
