import Foundation
import XCTest

/// Runs the built `sentencevae` binary (next to the test bundle) the way a script would.
enum CommandRunner {
    static var binary: URL {
        Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("sentencevae")
    }

    static func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil)!.path
    }

    struct Output {
        let status: Int32
        let out: String
        let err: String
    }

    static func run(_ arguments: [String], in directory: String? = nil) throws -> Output {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("build the sentencevae executable first (swift build)")
        }
        let p = Process()
        p.executableURL = binary
        p.arguments = arguments
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe(), error = Pipe()
        p.standardOutput = output
        p.standardError = error
        try p.run()
        // Read both pipes concurrently so neither fills up and blocks the child.
        var errData = Data()
        let reader = Thread { errData = error.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return Output(status: p.terminationStatus, out: String(decoding: outData, as: UTF8.self), err: String(decoding: errData, as: UTF8.self))
    }

    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }
}
