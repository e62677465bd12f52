import XCTest
@testable import Tokenization

final class SentenceSplitterTests: XCTestCase {
    /// `original` mode against goldens made by running the original `cut_sentence_func`
    /// (Tools/reference/make_split_goldens.py): edge cases, Austen paragraphs, Tang poems.
    func testOriginalModeMatchesOriginalFunction() throws {
        let cases = try Fixtures.json("split-goldens.json") as! [[String: Any]]
        var agreed: [String: (Int, Int)] = [:]
        for c in cases {
            let text = c["text"] as! String, group = c["group"] as! String
            let expected = c["sentences"] as! [String]
            let got = SentenceSplitter(mode: .original, maxSentences: c["max"] as? Int).split(text)
            var (ok, total) = agreed[group] ?? (0, 0)
            total += 1
            if got == expected { ok += 1 } else { XCTFail("\(text.debugDescription): got \(got), original \(expected)") }
            agreed[group] = (ok, total)
        }
        XCTAssertGreaterThan(cases.count, 500)
        print("[split original] agreement: \(agreed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.0)/\($0.value.1)" }.joined(separator: ", "))")
    }

    func testOriginalQuirks() {
        let s = SentenceSplitter(mode: .original)
        XCTAssertEqual(s.split("One. Two"), ["One. "])           // trailing text is dropped
        XCTAssertEqual(s.split("\""), ["\""])                    // a lone quote is a sentence
        XCTAssertEqual(s.split("3.14"), ["3."])                  // cuts inside numbers
        XCTAssertEqual(s.split("a\r\nb."), ["a\r\n", "b."])      // \r\n counts as two scalars
        XCTAssertEqual(SentenceSplitter(mode: .original, maxSentences: 2).split("a. b. c. d."), ["a. ", "b. "])
    }

    func testDefaultKeepsTrailingTextAndNumbers() {
        let s = SentenceSplitter()
        XCTAssertEqual(s.split("One. Two"), ["One. ", "Two"])
        XCTAssertEqual(s.split("Pi is 3.14, about 10,000 at 12:30. Yes"),
                       ["Pi is 3.14, ", "about 10,000 at 12:30. ", "Yes"])
        XCTAssertEqual(s.split("End with 3."), ["End with 3."])
        XCTAssertEqual(s.split("a,1 2.b"), ["a,", "1 2.", "b"])
        XCTAssertEqual(s.split("你好，世界。再见"), ["你好，", "世界。", "再见"])
        XCTAssertEqual(s.split("他说：“好的。”然后走了"), ["他说：", "“好的。”", "然后走了"])
        XCTAssertEqual(s.split(""), [])
        XCTAssertEqual(s.split("   "), ["   "])
        XCTAssertEqual(s.split("Hello.\t"), ["Hello.\t"])
        XCTAssertEqual(s.split("Hello. \tWorld"), ["Hello. ", "\tWorld"])
        XCTAssertEqual(SentenceSplitter(maxSentences: 1).split("a. b"), ["a. "])
    }

    func testDefaultModeLosesNothing() throws {
        let cases = try Fixtures.json("split-goldens.json") as! [[String: Any]]
        for text in cases.map({ $0["text"] as! String }) {
            XCTAssertEqual(SentenceSplitter().split(text).joined(), text)
        }
    }

    func testDefaultEqualsOriginalWhenTextEndsWithACut() {
        let text = "He said, \"Hello.\" Then left. 你好！世界？\n"
        XCTAssertEqual(SentenceSplitter(mode: .original).split(text), SentenceSplitter().split(text))
    }
}
