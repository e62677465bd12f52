import Foundation
import XCTest
@testable import Tokenization

/// Ids and texts against HF `transformers`/`tokenizers` (Tools/reference/make_tokenizer_goldens.py):
/// llama.cpp's 46 GPT-2 strings, 400 paragraphs of Austen, and whitespace/emoji/CJK/combining-mark
/// cases, through GPT-2's files, an OPT-layout directory and a small tokenizer.json.
final class TokenizerGoldenTests: XCTestCase {
    private var goldens: [String: Any] { try! Fixtures.json("tokenizer-goldens.json") as! [String: Any] }

    private func check(_ key: String, _ tokenizer: Tokenizer, file: StaticString = #filePath, line: UInt = #line) {
        let cases = goldens["cases"] as! [[String: Any]]
        var agreed: [String: (Int, Int)] = [:]
        for c in cases {
            let text = c["text"] as! String, group = c["group"] as! String
            let expected = (c[key] as! [Any]).ints
            let got = tokenizer.encode(text)
            var (ok, total) = agreed[group] ?? (0, 0)
            total += 1
            if got == expected { ok += 1 } else {
                XCTFail("\(key) \(group) \(text.debugDescription): got \(got), HF \(expected)", file: file, line: line)
            }
            agreed[group] = (ok, total)
        }
        let summary = agreed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.0)/\($0.value.1)" }
        print("[\(key)] agreement with HF: \(summary.joined(separator: ", "))")
    }

    func testGPT2MatchesHF() { check("gpt2", Fixtures.gpt2) }
    func testOPTLayoutMatchesHF() { check("opt", Fixtures.opt) }
    func testTokenizerJSONMatchesHF() { check("tiny", Fixtures.tiny) }

    /// The heap merge (used for long words) gives the scan's result on every golden text.
    func testHeapMergeEqualsScanMerge() {
        let heap = Fixtures.gpt2.copy()
        heap.model.longWordThreshold = 1
        for c in goldens["cases"] as! [[String: Any]] {
            let text = c["text"] as! String
            XCTAssertEqual(heap.encode(text), (c["gpt2"] as! [Any]).ints, text.debugDescription)
        }
    }

    func testLlamaCppExpectedIds() {
        let cases = (goldens["cases"] as! [[String: Any]]).filter { $0["group"] as? String == "llama" }
        XCTAssertEqual(cases.count, 46)
        for c in cases {
            XCTAssertEqual(Fixtures.gpt2.encode(c["text"] as! String), (c["llama_ids"] as! [Any]).ints)
        }
    }

    func testOPTSpecialIds() {
        let s = goldens["special"] as! [String: Int]
        XCTAssertEqual(Fixtures.opt.padId, s["opt_pad"])
        XCTAssertEqual(Fixtures.opt.bosId, s["opt_bos"])
        XCTAssertEqual(Fixtures.opt.eosId, s["opt_eos"])
        XCTAssertEqual(Fixtures.opt.unkId, s["opt_unk"])
        XCTAssertEqual(Fixtures.opt.prefixIds, [2])
        XCTAssertEqual(Fixtures.opt.encode("Hello", addSpecialTokens: false).first, Fixtures.opt.encode("Hello")[1])
    }

    func testDecodeMatchesHF() {
        for c in goldens["decode"] as! [[String: Any]] {
            let ids = (c["ids"] as! [Any]).ints
            XCTAssertEqual(Fixtures.gpt2.decode(ids), c["gpt2"] as? String, "\(ids)")
            XCTAssertEqual(Fixtures.gpt2.decode(ids, skipSpecialTokens: true), c["gpt2_skip"] as? String, "\(ids)")
            XCTAssertEqual(Fixtures.gpt2.decode(ids, cleanUpTokenizationSpaces: true), c["gpt2_clean"] as? String, "\(ids)")
        }
        for c in goldens["opt_decode"] as! [[String: Any]] {
            let ids = (c["ids"] as! [Any]).ints
            XCTAssertEqual(Fixtures.opt.decode(ids), c["opt"] as? String)
            XCTAssertEqual(Fixtures.opt.decode(ids, skipSpecialTokens: true), c["opt_skip"] as? String)
        }
    }

    func testRoundTripOfProse() {
        for c in (goldens["cases"] as! [[String: Any]]) {
            let text = c["text"] as! String
            XCTAssertEqual(Fixtures.gpt2.decode(Fixtures.gpt2.encode(text)), text)
            XCTAssertEqual(Fixtures.opt.decode(Fixtures.opt.encode(text), skipSpecialTokens: true),
                           text.replacingOccurrences(of: "</s>", with: "").replacingOccurrences(of: "<pad>", with: ""))
        }
    }

    func testBatchMatchesHFCollate() {
        let b = goldens["batch"] as! [String: Any]
        let batch = Fixtures.opt.encodeBatch(b["texts"] as! [String], padding: .longest,
                                             maxLength: b["max_length"] as? Int)
        XCTAssertEqual(batch.inputIds, (b["input_ids"] as! [[Any]]).map(\.ints))
        XCTAssertEqual(batch.attentionMask, (b["attention_mask"] as! [[Any]]).map(\.ints))
        let fixed = Fixtures.opt.encodeBatch(["Hi"], padding: .maxLength, maxLength: 5)
        XCTAssertEqual(fixed.inputIds, [[2, Fixtures.opt.encode("Hi")[1], 1, 1, 1]])
        XCTAssertEqual(fixed.attentionMask, [[1, 1, 0, 0, 0]])
        XCTAssertEqual(Fixtures.opt.encodeBatch([]).inputIds, [])
    }
}
