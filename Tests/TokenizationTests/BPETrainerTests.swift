import Foundation
import XCTest
@testable import Tokenization

/// The BPE trainer against HF `tokenizers`' trainer (goldens from
/// Tools/reference/check_trained_tokenizer.py on Fixtures/bpe-training/sample.txt), and the
/// directory it writes.
final class BPETrainerTests: XCTestCase {
    /// The sample's documents: one line each, separated by blank lines (so the corpus reader's
    /// joining of wrapped lines, which the golden script mirrors, has nothing to do).
    static let documents: [String] = {
        let text = try! String(contentsOf: Fixtures.url("bpe-training/sample.txt"), encoding: .utf8)
        return text.components(separatedBy: "\n\n").map { $0.trimmingCharacters(in: .newlines) }.filter { !$0.isEmpty }
    }()

    static let words: WordCounts = {
        var w = WordCounts()
        for d in documents { w.add(d) }
        return w
    }()

    private func golden(_ name: String) throws -> (vocab: String, merges: String) {
        let dir = Fixtures.url("bpe-training/\(name)")
        return (try String(contentsOf: dir.appendingPathComponent("vocab.json"), encoding: .utf8),
                try String(contentsOf: dir.appendingPathComponent("merges.txt"), encoding: .utf8))
    }

    /// Line-by-line comparison that names the first differing merge.
    private func assertSameMerges(_ ours: String, _ theirs: String, file: StaticString = #filePath, line: UInt = #line) {
        let a = ours.split(separator: "\n", omittingEmptySubsequences: false)
        let b = theirs.split(separator: "\n", omittingEmptySubsequences: false)
        if let i = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            XCTFail("merges.txt line \(i + 1): ours \"\(a[i])\", HF \"\(b[i])\"", file: file, line: line)
        } else {
            XCTAssertEqual(a.count, b.count, "merges.txt line count", file: file, line: line)
        }
    }

    func testStopsAtTheVocabularySizeWithHFsMerges() throws {
        XCTAssertEqual(Self.documents.count, 107)
        let trained = try BPETrainer(vocabularySize: 700).train(Self.words)
        let writer = TokenizerDirectoryWriter()
        let expected = try golden("hf-700")
        assertSameMerges(writer.mergesText(trained), expected.merges)
        XCTAssertEqual(writer.vocabJSON(trained), expected.vocab)
        XCTAssertEqual(trained.vocabularySize, 700)
        XCTAssertEqual(trained.merges.count, 440)
        XCTAssertEqual(trained.stop, .vocabularyFull)
    }

    /// A vocabulary larger than the text supports: training ends when the best pair is seen once,
    /// after a long run of ties between pairs seen twice (broken by the smaller pair of ids).
    func testStopsAtTheMinimumFrequencyWithHFsMerges() throws {
        let trained = try BPETrainer(vocabularySize: 4000).train(Self.words)
        let writer = TokenizerDirectoryWriter()
        let expected = try golden("hf-4000")
        assertSameMerges(writer.mergesText(trained), expected.merges)
        XCTAssertEqual(writer.vocabJSON(trained), expected.vocab)
        XCTAssertEqual(trained.vocabularySize, 1553)
        XCTAssertEqual(trained.stop, .minFrequency(bestCount: 1))
    }

    func testLayoutIsOPTs() throws {
        let trained = try BPETrainer(vocabularySize: 300).train(Self.words)
        XCTAssertEqual(Array(trained.tokens.prefix(6)), ["<s>", "<pad>", "</s>", "<unk>", "!", "\""])
        // The 256 byte symbols by code point: byte 0 is written U+0100 and comes after ÿ.
        XCTAssertEqual(trained.tokens[4 + 187], "ÿ")
        XCTAssertEqual(trained.tokens[4 + 188], "Ā")
        XCTAssertEqual(Set(trained.tokens[4..<260]).count, 256)
        XCTAssertEqual(trained.tokens[260], trained.merges[0].0 + trained.merges[0].1)
    }

    func testRoundTrip() throws {
        let tok = try BPETrainer(vocabularySize: 1000).train(Self.words).tokenizer()
        for d in Self.documents + ["Unseen wörds ✓ and \u{7} control bytes\n\ttoo", ""] {
            let ids = tok.encode(d)
            XCTAssertEqual(tok.decode(ids), d)
            XCTAssertTrue(ids.allSatisfy { $0 < 1000 }, d)
            // Special tokens come only from their text ("<s>", "</s>", … in the last document).
            if !d.contains("<") { XCTAssertTrue(ids.allSatisfy { $0 >= 4 }, d) }
        }
        // Learned merges shorten the text: Austen's prose is at most ~1 token per 2.5 bytes here.
        let bytes = Self.documents.map { $0.utf8.count }.reduce(0, +)
        let tokens = Self.documents.map { tok.encode($0).count }.reduce(0, +)
        XCTAssertLessThan(Double(tokens) * 2.5, Double(bytes))
    }

    func testWrittenDirectoryLoadsWithOPTsConventions() throws {
        let trained = try BPETrainer(vocabularySize: 700).train(Self.words)
        let dir = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TokenizerDirectoryWriter().write(trained, to: dir)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(),
                       ["merges.txt", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "vocab.json"])

        let loaded = try Tokenizer.load(directory: dir)
        XCTAssertEqual([loaded.bosId, loaded.eosId, loaded.padId, loaded.unkId], [2, 2, 1, 3])
        XCTAssertEqual(loaded.vocabularySize, 700)
        let plain = try trained.tokenizer()
        // Without tokenizer.json the vocab.json + merges.txt pair with the configs must agree.
        let pairOnly = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: pairOnly) }
        try FileManager.default.copyItem(atPath: dir, toPath: pairOnly)
        try FileManager.default.removeItem(atPath: pairOnly + "/tokenizer.json")
        let fromPair = try Tokenizer.load(directory: pairOnly)
        for d in Self.documents.prefix(40) + ["</s> and <pad> in text", "Hello"] {
            let ids = loaded.encode(d)
            XCTAssertEqual(ids.first, 2, "OPT puts </s> in front of every text")
            XCTAssertEqual(Array(ids.dropFirst()), plain.encode(d, addSpecialTokens: false), d)
            XCTAssertEqual(fromPair.encode(d), ids, d)
            XCTAssertEqual(loaded.decode(Array(ids.dropFirst())), d)
        }
        XCTAssertEqual(loaded.encode("</s>", addSpecialTokens: false), [2])
    }

    func testDestinationRules() throws {
        let trained = try BPETrainer(vocabularySize: 270).train(Self.words)
        let writer = TokenizerDirectoryWriter()
        let parent = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let dir = parent + "/tok"

        // An empty directory is fine; a non-empty one needs `overwrite`.
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try writer.write(trained, to: dir)
        XCTAssertThrowsError(try writer.write(trained, to: dir)) { error in
            XCTAssertEqual(error as? TokenizerDirectoryWriter.WriteError, .notEmpty(dir))
        }
        try "stale".write(toFile: dir + "/stale.txt", atomically: true, encoding: .utf8)
        try writer.write(trained, to: dir, overwrite: true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/stale.txt"), "the old directory is replaced whole")
        // Nothing is left next to it.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: parent), ["tok"])

        try "x".write(toFile: parent + "/file", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try writer.write(trained, to: parent + "/file", overwrite: true)) { error in
            XCTAssertEqual(error as? TokenizerDirectoryWriter.WriteError, .notADirectory(parent + "/file"))
        }
    }

    func testVocabularyBounds() throws {
        XCTAssertEqual(BPETrainer(vocabularySize: 0).minimumVocabularySize, 260)
        XCTAssertThrowsError(try BPETrainer(vocabularySize: 259).train(Self.words)) { error in
            XCTAssertEqual(error as? BPETrainingError, .vocabularyTooSmall(requested: 259, minimum: 260))
        }
        let bare = try BPETrainer(vocabularySize: 260).train(Self.words)
        XCTAssertEqual(bare.merges.count, 0)
        XCTAssertEqual(bare.stop, .vocabularyFull)
        XCTAssertThrowsError(try BPETrainer(vocabularySize: 300).train(WordCounts())) { error in
            XCTAssertEqual(error as? BPETrainingError, .noWords)
        }
        // One word, one pair: "aa" merges once, then nothing is left.
        var one = WordCounts()
        one.add("aa")
        let tiny = try BPETrainer(vocabularySize: 300, minFrequency: 0).train(one)
        XCTAssertEqual(tiny.merges.map { "\($0.0) \($0.1)" }, ["a a"])
        XCTAssertEqual(tiny.stop, .noPairsLeft)
    }

    /// Overlapping pairs merge left to right and are counted as HF counts them (expected merges
    /// from `tokenizers` 0.23). "aaaaaaa" + "aaa": (a,a) is seen 8 times; merging makes "aa aa aa a"
    /// and "aa a", so (aa,a) and (aa,aa) tie at 2 and the smaller pair of ids, (aa,a), goes first.
    func testOverlappingPairs() throws {
        var w = WordCounts()
        w.add("aaaaaaa")
        w.add("aaa")
        let trained = try BPETrainer(vocabularySize: 300, minFrequency: 1).train(w)
        XCTAssertEqual(trained.merges.map { "\($0.0) \($0.1)" }, ["a a", "aa a", "aa aa", "aaaa aaa"])
    }

    /// A merge that spells a special token takes the special token's id and adds no token, as in
    /// `tokenizers` 0.23 (expected merges and vocabulary from it).
    func testMergeSpellingASpecialToken() throws {
        var w = WordCounts()
        w.add("abab abc ab")
        let trained = try BPETrainer(vocabularySize: 300, minFrequency: 1, specialTokens: ["<s>", "ab"]).train(w)
        XCTAssertEqual(trained.merges.map { "\($0.0) \($0.1)" }, ["a b", "Ġ ab", "ab ab", "Ġab c"])
        XCTAssertEqual(trained.vocabularySize, 261)
        XCTAssertEqual(Array(trained.tokens[258...]), ["Ġab", "abab", "Ġabc"])
    }

    func testWordsAreCountedByBytes() {
        var w = WordCounts()
        w.add("the cat the caf\u{E9} cafe\u{301}")
        w.add("the")
        var seen: [String: Int] = [:]
        for i in 0..<w.uniqueWords {
            let (bytes, count) = w.word(i)
            seen[ByteUnicodeMap.text(of: Array(bytes))] = count
        }
        // "é" and "e\u{301}" are canonically equivalent Strings but different bytes, and the
        // combining accent is not a letter, so GPT-2's split cuts before it.
        XCTAssertEqual(seen, ["the": 2, "Ġcat": 1, "Ġthe": 1, "Ġcaf\u{C3}\u{A9}": 1, "Ġcafe": 1, "\u{CC}\u{123}": 1])
        XCTAssertEqual(w.totalWords, 7)
        XCTAssertEqual(w.uniqueWords, 6)
    }

    func testJSONQuoting() {
        XCTAssertEqual(TokenizerDirectoryWriter.quote("a\"b\\c"), #""a\"b\\c""#)
        XCTAssertEqual(TokenizerDirectoryWriter.quote("\u{1}\n"), #""\u0001\n""#)
        XCTAssertEqual(TokenizerDirectoryWriter.quote("Ġé"), "\"Ġé\"")
    }

    private func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("bpe-\(UUID().uuidString)").path
    }
}
