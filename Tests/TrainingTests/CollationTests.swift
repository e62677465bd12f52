import XCTest
import SentenceModels
import Tokenization
@testable import Training

final class CollationTests: XCTestCase {
    /// Row `r` of `batch`: its ids and mask.
    func row(_ batch: TokenBatch, _ r: Int) -> (ids: [Int], mask: [Bool]) {
        let range = (r * batch.length)..<((r + 1) * batch.length)
        return (Array(batch.ids[range]), Array(batch.mask[range]))
    }

    func testSentencesArePaddedToTheLongestRow() throws {
        let collate = try SentenceCollation(tokenizer: byteTokenizer(), maxLength: 16)
        let batch = try collate(["Hi.", "Hello,", "A"])
        XCTAssertEqual(batch.batch, 3)
        XCTAssertEqual(batch.length, 7, "</s> + 6 bytes of the longest")
        XCTAssertEqual(row(batch, 0).ids, [2] + byteIds("Hi.") + [1, 1, 1])
        XCTAssertEqual(row(batch, 0).mask, [true, true, true, true, false, false, false])
        XCTAssertEqual(row(batch, 1).ids, [2] + byteIds("Hello,"))
        XCTAssertEqual(row(batch, 2).ids, [2] + byteIds("A") + [1, 1, 1, 1, 1])
        XCTAssertEqual(batch.lengths, [4, 7, 2])
    }

    func testSentencesAreTruncatedToMaxLengthSpecialsIncluded() throws {
        let collate = try SentenceCollation(tokenizer: byteTokenizer(), maxLength: 5)
        let batch = try collate(["abcdefgh", "ab"])
        XCTAssertEqual(batch.length, 5)
        XCTAssertEqual(row(batch, 0).ids, [2] + byteIds("abcd"))
        XCTAssertEqual(row(batch, 1).ids, [2] + byteIds("ab") + [1, 1])
        XCTAssertEqual(batch.lengths, [5, 3])
    }

    func testCollationArgumentErrors() throws {
        assertDataError(try SentenceCollation(tokenizer: byteTokenizer(), maxLength: 1),
                        contains: ["maximum of 1 tokens per sentence leaves no room", "1 special tokens"])
        assertDataError(try SentenceCollation(tokenizer: byteTokenizer(pad: false), maxLength: 8),
                        contains: ["no pad token", "pad_token"])
        let collate = try SentenceCollation(tokenizer: byteTokenizer(), maxLength: 8)
        assertDataError(try collate([]), contains: ["no sentences"])
        assertDataError(try PassageCollation(tokenizer: byteTokenizer(), maxSentences: 0, maxSentenceLength: 8),
                        contains: ["maxSentences must be at least 1"])
    }

    func testPassagesBecomeOneBatchOfSentencesEach() throws {
        let collate = try PassageCollation(tokenizer: byteTokenizer(), maxSentences: 3, maxSentenceLength: 6)
        let passage = try XCTUnwrap(try collate("Hi. Longer one, x! y; z. tail"))
        // Original splitter: "Hi. ", "Longer one, ", "x! " (capped at 3 sentences), each cut to 6 tokens.
        XCTAssertEqual(passage.batch, 3)
        XCTAssertEqual(passage.length, 6)
        XCTAssertEqual(row(passage, 0).ids, [2] + byteIds("Hi. ") + [1])
        XCTAssertEqual(row(passage, 1).ids, [2] + byteIds("Longe"))
        XCTAssertEqual(row(passage, 2).ids, [2] + byteIds("x! ") + [1, 1])
        XCTAssertEqual(passage.lengths, [5, 6, 4])
    }

    func testPassagesCutAtTheLimitAreMarkedAsGoingOn() throws {
        let collate = try PassageCollation(tokenizer: byteTokenizer(), maxSentences: 2, maxSentenceLength: 8)
        let batch = try collate(["One. Two. Three.", "One. Two.", "One. Two. tail", "One."])
        XCTAssertEqual(batch.passages.map(\.batch), [2, 2, 2, 1])
        // Only the first has text past its last row; the original splitter drops an unpunctuated tail.
        XCTAssertEqual(batch.continues, [true, false, false, false])
        XCTAssertEqual(try XCTUnwrap(try collate.rows("One. Two. Three.")).rows, try XCTUnwrap(try collate("One. Two. ")))
        let better = try PassageCollation(tokenizer: byteTokenizer(), splitterMode: .default, maxSentences: 2, maxSentenceLength: 8)
        XCTAssertEqual(try better(["One. Two. tail", "One. Two."]).continues, [true, false])
        // The text's last sentence ends in a space like the others, so the end is not visible in it.
        XCTAssertEqual(row(try XCTUnwrap(try collate("One. Two.")), 1).ids, [2] + byteIds("Two. "))
        XCTAssertEqual(row(try XCTUnwrap(try better("One. tail")), 1).ids, [2] + byteIds("tail "))
        XCTAssertEqual(SentenceSplitter.insideText("a\n"), "a\n")
        XCTAssertEqual(SentenceSplitter.insideText(""), "")
    }

    func testPassagesWithoutSentencesAreReportedNotCollated() throws {
        let original = try PassageCollation(tokenizer: byteTokenizer(), maxSentences: 4, maxSentenceLength: 8)
        XCTAssertNil(try original("no punctuation"))
        XCTAssertNil(try original(""))
        let batch = try original(["One. Two.", "no cut", "Three!", ""])
        XCTAssertEqual(batch.passages.map(\.batch), [2, 1])
        XCTAssertEqual(batch.skipped, [1, 3])
        // The default splitter keeps trailing text, so only the empty passage has no sentence.
        let better = try PassageCollation(tokenizer: byteTokenizer(), splitterMode: .default, maxSentences: 4, maxSentenceLength: 8)
        XCTAssertEqual(try better(["One. Two.", "no cut", "Three!", ""]).skipped, [3])
    }

    func testTokenWindowsArePassagesTruncatedToMaxLength() throws {
        let collate = try TokenWindowCollation(tokenizer: byteTokenizer(), maxLength: 8)
        let batch = try collate(["First passage. It goes on.", "Short."])
        XCTAssertEqual(batch.batch, 2)
        XCTAssertEqual(batch.length, 8)
        XCTAssertEqual(row(batch, 0).ids, [2] + byteIds("First p"))
        XCTAssertEqual(row(batch, 1).ids, [2] + byteIds("Short.") + [1])
        XCTAssertEqual(row(batch, 1).mask, [Bool](repeating: true, count: 7) + [false])
    }
}
