import Foundation
import XCTest

/// The `tokenize`/`split` command-line contract that scripts depend on, run against the built
/// `sentencevae` binary next to the test bundle (skipped when it has not been built).
final class CommandLineTests: XCTestCase {
    private var binary: URL {
        Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("sentencevae")
    }

    private func run(_ arguments: [String], stdin: [UInt8] = []) throws -> (status: Int32, out: String, err: String) {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("build the sentencevae executable first (swift build)")
        }
        let p = Process()
        p.executableURL = binary
        p.arguments = arguments
        let input = Pipe(), output = Pipe(), error = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = error
        try p.run()
        input.fileHandleForWriting.write(Data(stdin))
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    private var gpt2: String { Fixtures.url("gpt2").path }

    func testTokenize() throws {
        XCTAssertEqual(try run(["tokenize", "--tokenizer", gpt2, "Hello world", "Hi"]).out, "15496 995\n17250\n")
        XCTAssertEqual(try run(["tokenize", "--tokenizer", gpt2, "--json", "Hello world", ""]).out, "[15496, 995]\n[]\n")
        XCTAssertEqual(try run(["tokenize", "--tokenizer", gpt2], stdin: Array("Hello world".utf8)).out, "15496 995\n")
        XCTAssertEqual(try run(["tokenize", "--tokenizer", gpt2, "--lines"], stdin: Array("Hello world\r\nHi\n\nHi\n".utf8)).out,
                       "15496 995\n17250\n\n17250\n")
        // Invalid UTF-8 on stdin is replaced by U+FFFD (bytes EF BF BD), not a crash.
        let replaced = try run(["tokenize", "--tokenizer", gpt2], stdin: [0x61, 0xFF, 0x62])
        XCTAssertEqual(replaced.status, 0)
        XCTAssertEqual(replaced.out, "64 4210 65\n")
    }

    func testDecode() throws {
        XCTAssertEqual(try run(["tokenize", "--tokenizer", gpt2, "--decode", "15496", "995"]).out, "Hello world\n")
        XCTAssertEqual(try run(["tokenize", "--tokenizer", gpt2, "--decode", "--json"],
                               stdin: Array("[15496, 995]\n40 716\n".utf8)).out, "\"Hello world\"\n\"I am\"\n")
        let bad = try run(["tokenize", "--tokenizer", gpt2, "--decode", "12", "x"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("\"x\" is not an integer"), bad.err)
    }

    func testSplit() throws {
        XCTAssertEqual(try run(["split", "One. Two 3.14"]).out, "One. \nTwo 3.14\n")
        XCTAssertEqual(try run(["split", "--mode", "original", "--json", "One. Two 3.14"]).out, "[\"One. \",\"Two 3.\"]\n")
        XCTAssertEqual(try run(["split", "--json", "--max-sentences", "1"], stdin: Array("a\r\nb.".utf8)).out, "[\"a\\r\\n\"]\n")
        XCTAssertEqual(try run(["split", "--json"]).out, "[]\n")
        XCTAssertEqual(try run(["split", "a\nb"]).out, "a\\n\nb\n")
        XCTAssertNotEqual(try run(["split", "--max-sentences", "0", "x"]).status, 0)
    }

    func testErrorsNameTheProblem() throws {
        let missing = try run(["tokenize", "--tokenizer", "/nonexistent", "x"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("/nonexistent"), missing.err)
    }
}
