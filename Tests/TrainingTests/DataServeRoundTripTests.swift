import Foundation
import XCTest
@testable import Training

/// `sentencevae data serve` (the built binary, as a child process on a free loopback port) read by
/// `DataServerSource`: the same items as the in-process `LocalCorpusSource`, the eval split first.
final class DataServeRoundTripTests: XCTestCase {
    /// The built `sentencevae` next to this test bundle (`swift build` / `swift test` build both).
    static var binary: URL {
        Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("sentencevae")
    }

    /// A running server and what it printed.
    final class Server: @unchecked Sendable {
        let process = Process()
        private let lock = NSLock()
        private var output = ""
        private let printed = DispatchSemaphore(value: 0)
        private let closed = DispatchSemaphore(value: 0)

        var text: String { lock.lock(); defer { lock.unlock() }; return output }

        init(arguments: [String]) throws {
            guard FileManager.default.isExecutableFile(atPath: DataServeRoundTripTests.binary.path) else {
                throw XCTSkip("build the sentencevae executable first (swift build)")
            }
            process.executableURL = DataServeRoundTripTests.binary
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let handle = pipe.fileHandleForReading
            Thread {
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    self.lock.lock()
                    self.output += String(decoding: chunk, as: UTF8.self)
                    self.lock.unlock()
                    self.printed.signal()
                }
                self.printed.signal()
                self.closed.signal()
            }.start()
        }

        /// The URL the server printed, waiting up to `timeout` seconds for it.
        func url(timeout: Double = 60) -> String? {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                    return String(text[range])
                }
                if !process.isRunning { return nil }
                _ = printed.wait(timeout: .now() + 0.5)
            }
            return nil
        }

        /// Sends SIGTERM and returns the exit status once all output is read.
        func stop() -> Int32 {
            if process.isRunning { process.terminate() }
            return waitForExit()
        }

        func waitForExit() -> Int32 {
            process.waitUntilExit()
            _ = closed.wait(timeout: .now() + 10)
            return process.terminationStatus
        }
    }

    func testServedItemsMatchTheLocalSource() throws {
        let dir = try temporaryDirectory(self)
        // Every sentence starts with its document's name.
        let documents = (0..<7).map { d in "d\(d) starts here, d\(d) goes on. d\(d) ends!" }
        let path = try write(documents.joined(separator: "\n\n") + "\n", to: "corpus.txt", in: dir)

        for (mode, unit) in [("sentences", SampleUnit.sentences), ("passages", .passages)] {
            let server = try Server(arguments: ["data", "serve", path, "--port", "0", "--mode", mode,
                                                "--eval-documents", "2", "--seed", "9"])
            guard let url = server.url() else {
                _ = server.stop()
                return XCTFail("the server printed no URL:\n\(server.text)")
            }
            let local = try LocalCorpusSource(corpus: Corpus.load(path: path), unit: unit, evalDocuments: 2, seed: 9)

            let remote = try DataServerSource(url: url, evalCount: local.evalCount)
            XCTAssertEqual(remote.count, local.count)
            let served = try (0..<remote.count).map { try remote.item($0) }
            XCTAssertEqual(served, try (0..<local.count).map { try local.item($0) })
            // The eval items are exactly the items of two documents, none shared with train.
            let evalDocs = Set(served[..<remote.evalCount].map { $0.split(separator: " ")[0] })
            let trainDocs = Set(served[remote.evalCount...].map { $0.split(separator: " ")[0] })
            XCTAssertEqual(evalDocs.count, 2, mode)
            XCTAssertTrue(evalDocs.isDisjoint(with: trainDocs), mode)

            // Raw protocol answers for indices the client never asks for.
            XCTAssertEqual(try remote.get(path: "/data/\(remote.count)").status, 404)
            XCTAssertEqual(try remote.get(path: "/data/-1").status, 404)
            let bad = try remote.get(path: "/data/one")
            XCTAssertEqual(bad.status, 400)
            XCTAssertTrue(String(decoding: bad.body, as: UTF8.self).contains("not an integer"))

            XCTAssertEqual(server.stop(), 0, "SIGTERM stops the server cleanly:\n\(server.text)")
            // Printed before the server answered "ready.", read in full once it has exited.
            XCTAssertTrue(server.text.contains("serving \(local.count) \(mode) from 7 documents (seed 9) at \(url)"), server.text)
            XCTAssertTrue(server.text.contains("eval split: items 0..<\(local.evalCount)"), server.text)
        }
    }

    func testServeReportsCorpusErrors() throws {
        let dir = try temporaryDirectory(self)
        let path = try write("One document. Only.\n", to: "c.txt", in: dir)
        let server = try Server(arguments: ["data", "serve", path, "--port", "0", "--eval-documents", "1"])
        XCTAssertEqual(server.waitForExit(), 1)
        XCTAssertTrue(server.text.contains("corpus of 1 documents is not larger than the eval split of 1"), server.text)
    }
}
