import Foundation
import XCTest
@testable import Tokenization

/// Bad input: errors name the file and line; odd text never crashes.
final class TokenizerLoaderTests: XCTestCase {
    private func directory(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir
    }

    private func loadError(_ files: [String: String]) throws -> String {
        let dir = try directory(files)
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try Tokenizer.load(directory: dir.path)
            XCTFail("expected an error")
            return ""
        } catch let error as TokenizerError {
            return error.description
        }
    }

    private let vocab = #"{"a": 0, "b": 1, "ab": 2, "Ġ": 3}"#

    func testMissingFilesAreNamed() throws {
        XCTAssertTrue(try loadError(["vocab.json": vocab]).contains("merges.txt"))
        XCTAssertTrue(try loadError(["merges.txt": "a b\n"]).contains("vocab.json"))
        XCTAssertThrowsError(try Tokenizer.load(directory: "/nonexistent/dir"))
    }

    func testMalformedMergesNameTheLine() throws {
        let message = try loadError(["vocab.json": vocab, "merges.txt": "#version: 0.2\na b\nabc\n"])
        XCTAssertTrue(message.contains("merges.txt:3"), message)
        let notByteLevel = try loadError(["vocab.json": vocab, "merges.txt": "a b\na €\n"])
        XCTAssertTrue(notByteLevel.contains("merges.txt:2"), notByteLevel)
    }

    func testMalformedVocabularyNamesTheLine() throws {
        let message = try loadError(["vocab.json": "{\n\"a\": 0,\n\"b\": 1\n\"ab\": 2}", "merges.txt": "a b\n"])
        XCTAssertTrue(message.contains("vocab.json:4"), message)  // the missing comma shows at line 4
        let typeError = try loadError(["vocab.json": "{\n\"a\": 0,\n\"b\": \"one\"\n}", "merges.txt": "a b\n"])
        XCTAssertTrue(typeError.contains("vocab.json:3"), typeError)
    }

    func testTokenizerJSONProblemsAreNamed() throws {
        let model = #""model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}"#
        let normalizer = try loadError(["tokenizer.json": "{\(model), \"normalizer\": {\"type\": \"NFC\"}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}"])
        XCTAssertTrue(normalizer.contains("tokenizer.json") && normalizer.contains("NFC"), normalizer)
        let wordPiece = try loadError(["tokenizer.json": #"{"model": {"type": "WordPiece", "vocab": {}}}"#])
        XCTAssertTrue(wordPiece.contains("WordPiece"), wordPiece)
        let badMerge = try loadError(["tokenizer.json": #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b c"]}, "pre_tokenizer": {"type": "ByteLevel"}}"#])
        XCTAssertTrue(badMerge.contains("model.merges[0]"), badMerge)
        let syntax = try loadError(["tokenizer.json": "{\n\"model\": {\n\"type\": \"BPE\",,\n}}"])
        XCTAssertTrue(syntax.contains("tokenizer.json:3"), syntax)
    }

    func testTinyVocabularyWorks() throws {
        let dir = try directory(["vocab.json": vocab, "merges.txt": "#version: 0.2\na b\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Tokenizer.load(directory: dir.path)
        XCTAssertEqual(t.encode("ab a"), [2, 3, 0])
        XCTAssertEqual(t.encode("abc"), [2])  // "c" is not in the vocabulary and there is no unk: dropped
        XCTAssertEqual(t.decode([2, 3, 0, 99]), "ab a")
    }

    func testCopiesEncodeInParallel() {
        let texts = (0..<8).map { "Thread \($0): the quick brown fox jumps over the lazy dog, 你好 \($0 * 37)." }
        let expected = texts.map { Fixtures.opt.encode($0) }
        let copies = texts.map { _ in Fixtures.opt.copy() }
        var results = [[Int]](repeating: [], count: texts.count)
        results.withUnsafeMutableBufferPointer { out in
            DispatchQueue.concurrentPerform(iterations: texts.count) { i in out[i] = copies[i].encode(texts[i]) }
        }
        XCTAssertEqual(results, expected)
    }

    func testEmptyAndInvalidInput() {
        XCTAssertEqual(Fixtures.gpt2.encode(""), [])
        XCTAssertEqual(Fixtures.opt.encode(""), [2])
        XCTAssertEqual(Fixtures.gpt2.decode([]), "")
        XCTAssertEqual(Fixtures.gpt2.decode([-1, 1_000_000]), "")
        let invalid = String(decoding: [0x61, 0xFF, 0xC3, 0x28], as: UTF8.self)
        XCTAssertEqual(Fixtures.gpt2.decode(Fixtures.gpt2.encode(invalid)), "a\u{FFFD}\u{FFFD}(")
    }
}
