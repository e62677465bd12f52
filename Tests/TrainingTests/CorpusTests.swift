import Foundation
import XCTest
@testable import Training

final class CorpusTests: XCTestCase {
    // MARK: Plain text

    func testPlainTextDocumentsAreSeparatedByBlankLinesAndUnwrapped() throws {
        let dir = try temporaryDirectory(self)
        let text = "\n\nThe cat sat\non the mat.  \n   \t\nSecond document,\r\n  indented line.\r\n\n\n\nThird.\n"
        let path = try write(text, to: "corpus.txt", in: dir)
        let corpus = try Corpus.load(path: path)
        XCTAssertEqual(corpus.documents, ["The cat sat on the mat.", "Second document, indented line.", "Third."])
        XCTAssertEqual(corpus.notes, [])
    }

    func testPlainTextWithoutTrailingNewlineAndWithByteOrderMark() throws {
        let dir = try temporaryDirectory(self)
        let path = try write([0xEF, 0xBB, 0xBF] + Array("一句话。\n第二行\n\n　\nlast".utf8), to: "a.txt", in: dir)
        // The ideographic space (U+3000) line counts as blank.
        XCTAssertEqual(try Corpus.load(path: path).documents, ["一句话。 第二行", "last"])
    }

    func testAnyExtensionOtherThanJSONLIsPlainText() throws {
        let dir = try temporaryDirectory(self)
        let path = try write("{\"content\": \"x\"}\n", to: "notes.md", in: dir)
        XCTAssertEqual(try Corpus.load(path: path).documents, ["{\"content\": \"x\"}"])
    }

    // MARK: JSONL

    func testJSONLReadsTheContentFieldAndSkipsBlankLines() throws {
        let dir = try temporaryDirectory(self)
        let jsonl = """
            {"id": 1, "content": "First passage.\\nWith a line break."}

            {"content": "  "}
              \t
            {"content": "Second: 中文。", "other": 3}\r

            """
        let path = try write(jsonl, to: "wanjuan.jsonl", in: dir)
        let corpus = try Corpus.load(path: path)
        XCTAssertEqual(corpus.documents, ["First passage.\nWith a line break.", "Second: 中文。"])
        XCTAssertEqual(corpus.notes.count, 1)
        XCTAssertTrue(corpus.notes[0].contains("skipped 1 line whose \"content\" is empty"), corpus.notes[0])
    }

    func testJSONLFieldIsConfigurable() throws {
        let dir = try temporaryDirectory(self)
        let path = try write("{\"text\": \"a\", \"content\": \"b\"}\n{\"text\": \"c\"}\n", to: "x.JSONL", in: dir)
        XCTAssertEqual(try Corpus.load(path: path, jsonlField: "text").documents, ["a", "c"])
    }

    // MARK: Directories

    func testDirectoryIsReadRecursivelyInPathOrderIgnoringOtherFiles() throws {
        let dir = try temporaryDirectory(self)
        try write("from b\n\nfrom b again\n", to: "b.txt", in: dir)
        try write("{\"content\": \"from a/z\"}\n", to: "a/z.jsonl", in: dir)
        try write("from a/sub/y\n", to: "a/sub/y.txt", in: dir)
        try write("from A\n", to: "A.txt", in: dir)
        try write("ignored\n", to: "a/readme.md", in: dir)
        try write("ignored\n", to: "c.csv", in: dir)
        let corpus = try Corpus.load(path: dir.path)
        // Byte order: "A" < "a" < "b"; "a/sub/…" < "a/z…".
        XCTAssertEqual(corpus.documents, ["from A", "from a/sub/y", "from a/z", "from b", "from b again"])
        XCTAssertEqual(corpus.notes.count, 1)
        XCTAssertTrue(corpus.notes[0].contains("ignored 2 files that are not .txt or .jsonl"), corpus.notes[0])
        XCTAssertTrue(corpus.notes[0].contains("readme.md"), corpus.notes[0])
    }

    // MARK: Errors

    func testMissingPath() {
        assertDataError(try Corpus.load(path: "/nonexistent/corpus.txt"),
                        contains: ["/nonexistent/corpus.txt", "no such file or directory"])
    }

    func testEmptyCorpora() throws {
        let dir = try temporaryDirectory(self)
        let blank = try write("\n  \n\t\n", to: "blank.txt", in: dir)
        assertDataError(try Corpus.load(path: blank), contains: ["blank.txt", "no documents", "only blank lines"])
        let emptyTexts = try write("{\"content\": \"\"}\n", to: "e.jsonl", in: dir)
        assertDataError(try Corpus.load(path: emptyTexts), contains: ["e.jsonl", "no documents", "empty"])

        let empty = dir.appendingPathComponent("empty")
        try write("x", to: "empty/notes.csv", in: dir)
        assertDataError(try Corpus.load(path: empty.path), contains: ["no documents", "no .txt or .jsonl files", "1 other"])
    }

    func testInvalidUTF8GivesFileAndByteOffset() throws {
        let dir = try temporaryDirectory(self)
        // "café" in Latin-1: the é is byte 0xE9 at offset 9.
        let path = try write(Array("good\n\ncaf".utf8) + [0xE9, 0x0A], to: "latin1.txt", in: dir)
        assertDataError(try Corpus.load(path: path), contains: ["latin1.txt", "invalid UTF-8 at byte offset 9", "iconv"])
        let jsonl = try write(Array("{\"content\": \"ok\"}\n{\"content\": \"".utf8) + [0xC3, 0x28] + Array("\"}\n".utf8),
                              to: "bad.jsonl", in: dir)
        assertDataError(try Corpus.load(path: jsonl), contains: ["bad.jsonl", "byte offset 31"])
    }

    func testJSONLLineErrorsNameFileAndLine() throws {
        let dir = try temporaryDirectory(self)
        let notJSON = try write("{\"content\": \"a\"}\n\n{content: b}\n", to: "n.jsonl", in: dir)
        assertDataError(try Corpus.load(path: notJSON), contains: ["n.jsonl:3:", "not valid JSON", "{content: b}"])
        let notObject = try write("[\"a\"]\n", to: "o.jsonl", in: dir)
        assertDataError(try Corpus.load(path: notObject), contains: ["o.jsonl:1:", "a JSON array, not an object"])
        let missing = try write("{\"content\": \"a\"}\n{\"text\": \"b\", \"id\": 2}\n", to: "m.jsonl", in: dir)
        assertDataError(try Corpus.load(path: missing),
                        contains: ["m.jsonl:2:", "no field \"content\"", "\"id\", \"text\"", "--jsonl-field"])
        let number = try write("{\"content\": 12}\n", to: "d.jsonl", in: dir)
        assertDataError(try Corpus.load(path: number), contains: ["d.jsonl:1:", "field \"content\" is a number, not a string"])
        let null = try write("{\"content\": null}\n", to: "u.jsonl", in: dir)
        assertDataError(try Corpus.load(path: null), contains: ["u.jsonl:1:", "is a null"])
    }

    func testUnreadableFile() throws {
        let dir = try temporaryDirectory(self)
        // A FIFO: opening it for reading would block; it is refused instead. (Permission bits do
        // not stop root, so they cannot make a file unreadable in this test.)
        let fifo = dir.appendingPathComponent("pipe.txt").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        assertDataError(try Corpus.load(path: fifo), contains: ["pipe.txt", "cannot read", "not a regular file"])
    }
}
