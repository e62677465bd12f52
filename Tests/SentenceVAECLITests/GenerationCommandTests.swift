import Foundation
import TestSupport
import XCTest

/// `svae`, `sllm` and `llm` end to end through the built binary, against what PyTorch computed with
/// the original modules on a briefly trained tiny model (`Tools/reference/make_tiny_checkpoints.py`).
final class GenerationCommandTests: XCTestCase {
    private func expected(_ name: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: CommandRunner.fixture(name))))
    }

    private var fixtures: String { CommandRunner.fixture("") }

    func testSVAEReconstructsExactlyAsPyTorch() throws {
        let cases = (try expected("svae-expected.json") as! [String: Any])["entries"] as! [[String: Any]]
        let inputs = cases.map { $0["input"] as! String }
        let result = try CommandRunner.run(["svae", "-c", "svae-tiny.yaml", "--checkpoint", "svae-tiny.pth", "--json"]
                                           + inputs.flatMap { ["--input", $0] }, in: fixtures)
        XCTAssertEqual(result.status, 0, result.err)
        let results = try CommandRunner.json(result.out)["results"] as! [[String: Any]]
        XCTAssertEqual(results.count, cases.count)
        for (got, want) in zip(results, cases) {
            let input = want["input"] as! String
            XCTAssertEqual(got["input"] as? String, input)
            XCTAssertEqual(got["input_ids"] as? [Int], want["input_ids"] as? [Int], input)
            XCTAssertEqual(got["output_ids"] as? [Int], want["output_ids"] as? [Int], input)
            XCTAssertEqual(got["output"] as? String, want["output"] as? String, input)
            assertClose((got["embedding"] as! [NSNumber]).map(\.floatValue), (want["embedding"] as! [NSNumber]).map(\.floatValue),
                        rel: 1e-4, abs: 1e-5, "embedding of \(input)")
            // The training sentences come back word for word.
            if want["in_training_set"] as? Bool == true { XCTAssertEqual(got["output"] as? String, input) }
        }
    }

    func testSVAETerminalOutputEndsWithTiming() throws {
        let result = try CommandRunner.run(["svae", "-c", "svae-tiny.yaml", "--checkpoint", "svae-tiny.pth",
                                            "--input", "Hello, world.", "--input", "   "], in: fixtures)
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertTrue(result.out.contains("[0]\tTest Input: Hello, world."), result.out)
        XCTAssertTrue(result.out.contains("VAE Output: "), result.out)
        XCTAssertTrue(result.out.contains("time to first token"), result.out)
        XCTAssertTrue(result.out.contains("tokens/s"), result.out)
        XCTAssertTrue(result.err.contains("input 1 is empty"), result.err)
    }

    func testSVAETruncatesLongInputWithAWarning() throws {
        let long = Array(repeating: "word", count: 200).joined(separator: " ")
        let result = try CommandRunner.run(["svae", "-c", "svae-tiny.yaml", "--checkpoint", "svae-tiny.pth", "--input", long, "--json"], in: fixtures)
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertTrue(result.err.contains("truncated to max_seq_len"), result.err)
        let ids = ((try CommandRunner.json(result.out)["results"] as! [[String: Any]])[0]["input_ids"] as! [Int])
        XCTAssertEqual(ids.count, 32)
    }

    func testMismatchedCheckpointIsRefusedWithTheList() throws {
        let result = try CommandRunner.run(["svae", "-c", "svae-tiny.yaml", "--checkpoint", "sllm-tiny.pth"], in: fixtures)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("does not match"), result.err)
        XCTAssertTrue(result.err.contains("encoder.embed_token.weight"), result.err)
        XCTAssertFalse(result.err.contains("Fatal error"), result.err)
    }

    func testMissingFilesAreClearErrors() throws {
        let noConfig = try CommandRunner.run(["svae", "-c", "nope.yaml", "--checkpoint", "svae-tiny.pth"], in: fixtures)
        XCTAssertNotEqual(noConfig.status, 0)
        XCTAssertTrue(noConfig.err.contains("nope.yaml"), noConfig.err)
        let noCheckpoint = try CommandRunner.run(["svae", "-c", "svae-tiny.yaml", "--checkpoint", "missing.pth"], in: fixtures)
        XCTAssertNotEqual(noCheckpoint.status, 0)
        XCTAssertTrue(noCheckpoint.err.contains("missing.pth"), noCheckpoint.err)
    }

    func testSLLMGeneratesExactlyAsPyTorch() throws {
        let file = try expected("sllm-expected.json") as! [String: Any]
        let cases = file["prompts"] as! [[String: Any]]
        let budget = String((file["max_new_sentences"] as! NSNumber).intValue)
        for want in cases {
            let input = want["input"] as! String
            let result = try CommandRunner.run(["sllm", "-c", "sllm-tiny.yaml", "--checkpoint", "sllm-tiny.pth", "--input", input,
                                                "--split-mode", "original", "--max-sentences", budget, "--json"], in: fixtures)
            XCTAssertEqual(result.status, 0, result.err)
            let got = try CommandRunner.json(result.out)
            XCTAssertEqual(got["prompt_sentences"] as? [String], want["prompt_sentences"] as? [String], input)
            let gotSentences = got["sentences"] as! [[String: Any]], wantSentences = want["sentences"] as! [[String: Any]]
            XCTAssertEqual(gotSentences.map { $0["ids"] as! [Int] }, wantSentences.map { $0["ids"] as! [Int] }, input)
            XCTAssertEqual(gotSentences.map { $0["text"] as! String }, wantSentences.map { $0["text"] as! String }, input)
            XCTAssertEqual(got["stopped"] as? Bool, want["stopped"] as? Bool, input)
        }
    }

    /// An input of max_sen_num sentences or more (16 in the tiny config) is continued from its last
    /// ones, leaving room for --max-sentences (at most half the window), with a warning; before,
    /// it kept the first 16 and had no room left to generate anything.
    func testSLLMLongInputKeepsItsLastSentences() throws {
        let sentences = (0..<40).map { "Sentence number \($0) is here. " }
        for (asked, kept) in [("3", 13), ("12", 8)] {
            let result = try CommandRunner.run(["sllm", "-c", "sllm-tiny.yaml", "--checkpoint", "sllm-tiny.pth", "--input",
                                                sentences.joined(), "--max-sentences", asked, "--json"], in: fixtures)
            XCTAssertEqual(result.status, 0, result.err)
            XCTAssertTrue(result.err.contains("continuing from the last \(kept)"), result.err)
            let got = try CommandRunner.json(result.out)
            XCTAssertEqual(got["prompt_sentences"] as? [String], Array(sentences.suffix(kept)), asked)
            XCTAssertGreaterThan((got["sentences"] as! [Any]).count, 0, asked)
        }
    }

    func testSLLMEmptyInputIsAMessage() throws {
        let result = try CommandRunner.run(["sllm", "-c", "sllm-tiny.yaml", "--checkpoint", "sllm-tiny.pth", "--input", ""], in: fixtures)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("no sentence"), result.err)
        XCTAssertFalse(result.err.contains("Fatal error"), result.err)
    }

    /// A thread count far past the cores is refused before any thread starts (it used to create
    /// them for minutes); every command with --threads shares the check.
    func testThreadCountsPastFourPerCoreAreRefused() throws {
        let tooMany = String(4 * ProcessInfo.processInfo.activeProcessorCount + 1)
        for arguments in [["llm", "--model", CommandRunner.fixture("tiny-opt"), "--input", "hi", "--threads", "100000"],
                          ["sllm", "-c", "sllm-tiny.yaml", "--checkpoint", "sllm-tiny.pth", "--input", "Hi.", "--threads", tooMany],
                          ["bench", "train", "--threads", tooMany], ["bench", "kernels", "--threads", "1," + tooMany],
                          ["bench", "train", "--threads", "0"]] {
            let result = try CommandRunner.run(arguments, in: fixtures)
            XCTAssertNotEqual(result.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(result.err.contains("--threads"), result.err)
        }
    }
}

/// `llm` end to end against HF `OPTForCausalLM` (`Tools/reference/make_llm_expected.py`).
final class LLMCommandTests: XCTestCase {
    func testGreedyMatchesHF() throws {
        let file = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: CommandRunner.fixture("llm-expected.json")))) as! [String: Any]
        let budget = String((file["max_new_tokens"] as! NSNumber).intValue)
        for want in file["cases"] as! [[String: Any]] {
            let input = want["input"] as! String
            let result = try CommandRunner.run(["llm", "--model", CommandRunner.fixture("tiny-opt"), "--input", input,
                                                "--max-new-tokens", budget, "--json"])
            XCTAssertEqual(result.status, 0, result.err)
            let got = try CommandRunner.json(result.out)
            XCTAssertEqual(got["input_ids"] as? [Int], want["input_ids"] as? [Int], input)
            XCTAssertEqual(got["output_ids"] as? [Int], want["output_ids"] as? [Int], input)
            XCTAssertEqual(got["text"] as? String, want["text"] as? String, input)
        }
    }

    /// A prompt too long for --max-new-tokens in the tiny model's 64 positions keeps the tokenizer's
    /// </s> and its last tokens, so the tokens asked for fit (at most half the positions), with a
    /// warning; one that leaves too little room even then says how many fit.
    func testLongPromptKeepsItsLastTokens() throws {
        let words = (0..<100).map { "w\($0)" }.joined(separator: " ")
        let whole = try CommandRunner.run(["llm", "--model", CommandRunner.fixture("tiny-opt"), "--input", words,
                                           "--max-new-tokens", "1", "--json"])
        let all = try CommandRunner.json(whole.out)["input_ids"] as! [Int]
        XCTAssertEqual(all.count, 63, whole.err)   // 64 positions, room for 1
        for (asked, room) in [(5, 5), (40, 32)] {
            let result = try CommandRunner.run(["llm", "--model", CommandRunner.fixture("tiny-opt"), "--input", words,
                                                "--max-new-tokens", String(asked), "--json"])
            XCTAssertEqual(result.status, 0, result.err)
            XCTAssertTrue(result.err.contains("continuing from its last \(64 - room)"), result.err)
            let got = try CommandRunner.json(result.out)
            let ids = got["input_ids"] as! [Int]
            XCTAssertEqual(ids.count, 64 - room)
            XCTAssertEqual(ids.first, 2, "the </s> the model always saw first")
            XCTAssertEqual(Array(ids.dropFirst()), Array(all.suffix(63 - room)))
            XCTAssertLessThanOrEqual((got["output_ids"] as! [Int]).count, room)
            XCTAssertEqual(result.err.contains("new tokens fit"), asked > room, result.err)
        }
    }

    func testSamplingIsReproducibleWithASeed() throws {
        func run(_ seed: String) throws -> [Int] {
            let r = try CommandRunner.run(["llm", "--model", CommandRunner.fixture("tiny-opt"), "--input", "The", "--temperature", "1.5",
                                           "--top-k", "50", "--top-p", "0.95", "--seed", seed, "--max-new-tokens", "16", "--json"])
            XCTAssertEqual(r.status, 0, r.err)
            return try CommandRunner.json(r.out)["output_ids"] as! [Int]
        }
        XCTAssertEqual(try run("7"), try run("7"))
        XCTAssertNotEqual(try run("7"), try run("8"))
    }

    func testBadOptionsAreUsageErrors() throws {
        let r = try CommandRunner.run(["llm", "--model", CommandRunner.fixture("tiny-opt"), "--input", "x", "--top-p", "0"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("top-p"), r.err)
        let penalty = try CommandRunner.run(["llm", "--model", CommandRunner.fixture("tiny-opt"), "--input", "x", "--repetition-penalty", "0"])
        XCTAssertNotEqual(penalty.status, 0)
        XCTAssertTrue(penalty.err.contains("repetition penalty"), penalty.err)
        let empty = try CommandRunner.run(["llm", "--model", CommandRunner.fixture("tiny-opt"), "--input", " "])
        XCTAssertNotEqual(empty.status, 0)
        XCTAssertTrue(empty.err.contains("prompt is empty"), empty.err)
    }
}
