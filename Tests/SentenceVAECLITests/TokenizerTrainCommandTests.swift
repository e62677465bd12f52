import Foundation
import Tokenization
import XCTest

/// `tokenizer train` through the built binary: the directory it writes, and its refusals.
final class TokenizerTrainCommandTests: XCTestCase {
    var directory = ""
    var corpus: String { directory + "/corpus.txt" }

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "tokenizer-train-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let lines = try String(contentsOfFile: CommandRunner.fixture("corpus.txt"), encoding: .utf8).split(separator: "\n")
        try lines.joined(separator: "\n\n").write(toFile: corpus, atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func testTrainsALoadableTokenizer() throws {
        let out = directory + "/tok"
        let r = try CommandRunner.run(["tokenizer", "train", corpus, "--vocab", "400", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("wrote \(out): 400 tokens (4 special, 256 bytes, 140 merges)"), r.out)
        XCTAssertTrue(r.err.contains("documents"), r.err)

        let tok = try Tokenizer.load(directory: out)
        let text = "A funny dad he was."
        let ids = tok.encode(text)
        XCTAssertEqual(ids.first, 2)
        XCTAssertTrue(ids.allSatisfy { $0 < 400 })
        XCTAssertEqual(tok.decode(ids, skipSpecialTokens: true), text)
        // `tokenize` reads the folder too.
        let cli = try CommandRunner.run(["tokenize", "--tokenizer", out, text])
        XCTAssertEqual(cli.out, ids.map(String.init).joined(separator: " ") + "\n")

        // Training again is deterministic; a non-empty OUT needs --force.
        let again = try CommandRunner.run(["tokenizer", "train", corpus, "--vocab", "400", "--out", out])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.err.contains("--force"), again.err)
        let merges = try String(contentsOfFile: out + "/merges.txt", encoding: .utf8)
        let forced = try CommandRunner.run(["tokenizer", "train", corpus, "--vocab", "400", "--out", out, "--force", "--quiet"])
        XCTAssertEqual(forced.status, 0, forced.err)
        XCTAssertEqual(forced.err, "")
        XCTAssertEqual(try String(contentsOfFile: out + "/merges.txt", encoding: .utf8), merges)
    }

    func testJSONLCorpusAndEarlyStop() throws {
        let jsonl = directory + "/c.jsonl"
        try "{\"content\": \"to be or not to be\"}\n{\"content\": \"to be\"}\n".write(toFile: jsonl, atomically: true, encoding: .utf8)
        let r = try CommandRunner.run(["tokenizer", "train", jsonl, "--vocab", "1000", "--out", directory + "/j"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("stopped early"), r.out)
    }

    func testErrorsSayWhatIsWrong() throws {
        let missing = try CommandRunner.run(["tokenizer", "train", directory + "/nope.txt", "--vocab", "300", "--out", directory + "/o"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("nope.txt: no such file"), missing.err)

        let empty = directory + "/empty.txt"
        try "\n\n  \n".write(toFile: empty, atomically: true, encoding: .utf8)
        let e = try CommandRunner.run(["tokenizer", "train", empty, "--vocab", "300", "--out", directory + "/o"])
        XCTAssertNotEqual(e.status, 0)
        XCTAssertTrue(e.err.contains("no documents"), e.err)

        let small = try CommandRunner.run(["tokenizer", "train", corpus, "--vocab", "259", "--out", directory + "/o"])
        XCTAssertNotEqual(small.status, 0)
        XCTAssertTrue(small.err.contains("at least 260"), small.err)

        let bad = directory + "/bad.txt"
        try Data("good line\nsecond caf".utf8 + [0xE9] + Data(" line\n".utf8)).write(to: URL(fileURLWithPath: bad))
        let b = try CommandRunner.run(["tokenizer", "train", bad, "--vocab", "300", "--out", directory + "/o"])
        XCTAssertNotEqual(b.status, 0)
        XCTAssertTrue(b.err.contains("bad.txt:2:11: invalid UTF-8 (byte offset 20)"), b.err)

        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/o"), "nothing is written on failure")
    }
}
