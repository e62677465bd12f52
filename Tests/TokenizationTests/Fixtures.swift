import Foundation
import XCTest
@testable import Tokenization

/// Paths to the committed fixtures and the tokenizers built from them, loaded once per run.
enum Fixtures {
    static let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    static func url(_ name: String) -> URL { root.appendingPathComponent(name) }

    static func json(_ name: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url(name)))
    }

    static let gpt2: Tokenizer = try! Tokenizer.load(directory: url("gpt2").path)
    static let tiny: Tokenizer = try! Tokenizer.load(directory: url("tiny-bpe").path)
    static let opt: Tokenizer = try! Tokenizer.load(directory: optLayoutDirectory().path)

    /// Builds the OPT-layout directory the golden script used: OPT's configs, GPT-2's merges, and
    /// GPT-2's tokens re-numbered as `4 + (g * 7919) % 50257` after `<s> <pad> </s> <unk>`.
    static func optLayoutDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("sentencevae-opt-layout-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let gpt2Vocab = try Tokenizer.readVocabulary(url("gpt2/vocab.json"))
        var vocab: [String: Int] = ["<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3]
        for (token, g) in gpt2Vocab { vocab[token] = 4 + (g * 7919) % gpt2Vocab.count }
        try JSONSerialization.data(withJSONObject: vocab).write(to: dir.appendingPathComponent("vocab.json"))
        for name in ["tokenizer_config.json", "special_tokens_map.json"] {
            try FileManager.default.copyItem(at: url("opt-layout/\(name)"), to: dir.appendingPathComponent(name))
        }
        try FileManager.default.copyItem(at: url("gpt2/merges.txt"), to: dir.appendingPathComponent("merges.txt"))
        return dir
    }
}

extension Array where Element == Any {
    var ints: [Int] { map { ($0 as! NSNumber).intValue } }
}
