import XCTest
@testable import Tokenization

/// The scanner against hand-worked cases of GPT-2's regular expression.
final class PreTokenizerTests: XCTestCase {
    func testAlternativesInOrder() {
        XCTAssertEqual(PreTokenizer.pieces("Hello world"), ["Hello", " world"])
        XCTAssertEqual(PreTokenizer.pieces("it's we'll I'M"), ["it", "'s", " we", "'ll", " I", "'", "M"])
        XCTAssertEqual(PreTokenizer.pieces("abc123 456!? x"), ["abc", "123", " 456", "!?", " x"])
        XCTAssertEqual(PreTokenizer.pieces(" 'sa"), [" '", "sa"])
    }

    func testWhitespaceRuns() {
        // `\s+(?!\S)` leaves the last space of a run to join the next word.
        XCTAssertEqual(PreTokenizer.pieces("a   b"), ["a", "  ", " b"])
        XCTAssertEqual(PreTokenizer.pieces("a\n\nb"), ["a", "\n", "\n", "b"])
        XCTAssertEqual(PreTokenizer.pieces("a \n b"), ["a", " \n", " b"])
        XCTAssertEqual(PreTokenizer.pieces("end   "), ["end", "   "])
        XCTAssertEqual(PreTokenizer.pieces("\u{3000}x"), ["\u{3000}", "x"])
        XCTAssertEqual(PreTokenizer.pieces(""), [])
    }

    func testUnicodeCategories() {
        XCTAssertEqual(PreTokenizer.pieces("你好，世界"), ["你好", "，", "世界"])
        XCTAssertEqual(PreTokenizer.pieces("e\u{301}t\u{e9}"), ["e", "\u{301}", "t\u{e9}"])  // Mn is not a letter
        XCTAssertEqual(PreTokenizer.pieces("Ⅻ½٣"), ["Ⅻ½٣"])
        XCTAssertEqual(PreTokenizer.pieces(" 😀😃 x"), [" 😀😃", " x"])
    }

    func testTruncatedUTF8DoesNotReadPastTheBuffer() {
        let bytes: [UInt8] = [0x61, 0x20, 0xE4, 0xBD]  // "a " + the first two bytes of 你
        var pieces: [[UInt8]] = []
        bytes.withUnsafeBufferPointer { p in PreTokenizer.split(p) { s, e in pieces.append(Array(p[s..<e])) } }
        XCTAssertEqual(pieces.flatMap { $0 }, bytes)
    }

    func testByteUnicodeMapRoundTrips() {
        for b in 0..<256 {
            let text = ByteUnicodeMap.text(of: [UInt8(b)])
            XCTAssertEqual(ByteUnicodeMap.bytes(of: text), [UInt8(b)])
        }
        XCTAssertEqual(ByteUnicodeMap.text(of: [0x20]), "Ġ")
        XCTAssertEqual(ByteUnicodeMap.text(of: [0x0A]), "Ċ")
    }
}
