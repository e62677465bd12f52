import Foundation
import Tokenization
import Training
import XCTest

/// A fresh directory under the system's temporary folder, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("TrainingTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Writes `bytes` to `name` under `directory` (creating folders) and returns the path.
@discardableResult
func write(_ bytes: [UInt8], to name: String, in directory: URL) throws -> String {
    let url = directory.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(bytes).write(to: url)
    return url.path
}

@discardableResult
func write(_ text: String, to name: String, in directory: URL) throws -> String {
    try write(Array(text.utf8), to: name, in: directory)
}

/// An OPT-layout tokenizer with one token per byte and no merges, so token counts are byte counts:
/// `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, byte b = 4 + b, and `</s>` put in front of every text.
func byteTokenizer(pad: Bool = true) throws -> Tokenizer {
    var vocabulary = ["<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3]
    for b in 0..<256 { vocabulary[ByteUnicodeMap.text(of: [UInt8(b)])] = 4 + b }
    let model = try ByteLevelBPE(vocabulary: vocabulary, merges: [])
    let added = [AddedToken(content: "<s>", id: 0), AddedToken(content: "<pad>", id: 1),
                 AddedToken(content: "</s>", id: 2), AddedToken(content: "<unk>", id: 3)]
    let specials = Tokenizer.SpecialTokens(bos: "</s>", eos: "</s>", unk: "<unk>", pad: pad ? "<pad>" : nil)
    return Tokenizer(model: model, addedTokens: added, specialTokens: specials, prefixIds: [2])
}

/// The ids `byteTokenizer` gives `text` (without the leading `</s>`).
func byteIds(_ text: String) -> [Int] { text.utf8.map { 4 + Int($0) } }

/// Asserts that `body` throws a `DataError` whose message contains every one of `parts`.
func assertDataError<T>(_ body: @autoclosure () throws -> T, contains parts: [String],
                        file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected an error containing \(parts)", file: file, line: line)
    } catch let error as DataError {
        for part in parts where !error.description.contains(part) {
            XCTFail("error \"\(error)\" does not contain \"\(part)\"", file: file, line: line)
        }
    } catch {
        XCTFail("expected a DataError, got \(error)", file: file, line: line)
    }
}
