import Foundation
import XCTest

/// `bench generate` end to end on the built-in passages (one passage, short sentences, fp32 only:
/// the compact kernels are slow in debug builds and have tests of their own): the JSON contract,
/// the cache per token the engine accounts, and clear refusals.
final class BenchGenerateCommandTests: XCTestCase {
    func testJSONContractAndCachePerToken() throws {
        let r = try CommandRunner.run(["bench", "generate", "--size", "125m", "--models", "opt,sllm-h1", "--weights", "f32",
                                       "--limit", "1", "--sentence-tokens", "2", "--threads", "2", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let results = try XCTUnwrap(try CommandRunner.json(r.out)["results"] as? [[String: Any]])
        XCTAssertEqual(results.map { "\($0["model"]!) \($0["weights"]!)" }, ["opt f32", "sllm-h1 f32"])
        for row in results {
            for key in ["model", "size", "weights", "input_tokens_per_s", "output_tokens_per_s", "ttft_s", "kb_per_token", "peak_rss_mb"] {
                XCTAssertNotNil(row[key], key)
            }
            XCTAssertGreaterThan(row["output_tokens_per_s"] as! Double, 0)
        }
        // OPT-125m keeps 2 · 12 layers · 768 · 4 bytes per token; the SLLM one such entry per
        // sentence, sampled here only after its 2-token sentences: 72 / 2.
        XCTAssertEqual(results[0]["kb_per_token"] as! Double, 72, accuracy: 1e-9)
        XCTAssertEqual(results[1]["kb_per_token"] as! Double, 72.0 / 2, accuracy: 1e-9)
    }

    /// --rounds: each figure is the median over the rounds (each round's output tokens/s kept), and
    /// the SLLM-to-OPT ratio is taken inside each round, then its median reported (of two rounds:
    /// their mean). The table prints the ratios too.
    func testRoundsGiveMediansAndRatiosInsideEachRound() throws {
        let family = CommandRunner.fixture("tiny-family")
        let r = try CommandRunner.run(["bench", "generate", "--family", family, "--limit", "1", "--sentence-tokens", "3",
                                       "--rounds", "2", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let json = try CommandRunner.json(r.out)
        XCTAssertEqual(json["rounds"] as? Int, 2)
        XCTAssertNotNil(json["cpu"] as? String, "which CPU the figures are from")
        let results = try XCTUnwrap(json["results"] as? [[String: Any]])
        XCTAssertEqual(results.map { $0["model"] as? String }, ["opt", "sllm-h2"])
        let perRound = try results.map { try XCTUnwrap($0["output_tokens_per_s_rounds"] as? [Double]) }
        for (row, speeds) in zip(results, perRound) {
            XCTAssertEqual(speeds.count, 2)
            XCTAssertEqual(row["output_tokens_per_s"] as! Double, (speeds[0] + speeds[1]) / 2, accuracy: 1e-9)
        }
        let ratios = try XCTUnwrap(json["ratios"] as? [[String: Any]])
        XCTAssertEqual(ratios.count, 1)
        XCTAssertEqual(ratios[0]["model"] as? String, "sllm-h2")
        XCTAssertEqual(ratios[0]["against"] as? String, "opt")
        let inside = try XCTUnwrap(ratios[0]["rounds"] as? [Double])
        XCTAssertEqual(inside.count, 2)
        for i in 0..<2 { XCTAssertEqual(inside[i], perRound[1][i] / perRound[0][i], accuracy: 1e-9) }
        XCTAssertEqual(ratios[0]["median"] as! Double, (inside[0] + inside[1]) / 2, accuracy: 1e-9)
        let table = try CommandRunner.run(["bench", "generate", "--family", family, "--limit", "1", "--sentence-tokens", "3"])
        XCTAssertEqual(table.status, 0, table.err)
        XCTAssertTrue(table.out.contains("SLLM-H2 / OPT, q8: "), table.out)
        let zero = try CommandRunner.run(["bench", "generate", "--rounds", "0"])
        XCTAssertNotEqual(zero.status, 0)
        XCTAssertTrue(zero.err.contains("--rounds must be at least 1"), zero.err)
    }

    /// --family: the trained family's OPT and SLLM on the passages' text in its own vocabulary,
    /// loaded in the files' format (the fixture is q8), both generating the same token count.
    func testTrainedFamily() throws {
        let family = CommandRunner.fixture("tiny-family")
        let r = try CommandRunner.run(["bench", "generate", "--family", family, "--limit", "2", "--sentence-tokens", "3", "--threads", "2", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let results = try XCTUnwrap(try CommandRunner.json(r.out)["results"] as? [[String: Any]])
        XCTAssertEqual(results.map { "\($0["model"]!) \($0["size"]!) \($0["weights"]!)" }, ["opt family q8", "sllm-h2 family q8"])
        XCTAssertEqual(results[0]["output_tokens"] as? Int, results[1]["output_tokens"] as? Int)
        XCTAssertGreaterThan(results[0]["output_tokens"] as? Int ?? 0, 0)
        // The SLLM's layers are the OPT's: one cache entry per sentence (3 tokens or, in the prompt,
        // more) against one per token.
        let opt = results[0]["kb_per_token"] as! Double, sllm = results[1]["kb_per_token"] as! Double
        XCTAssertGreaterThan(sllm, 0)
        XCTAssertLessThanOrEqual(sllm, opt / 3 + 1e-9)
        let f32 = try CommandRunner.run(["bench", "generate", "--family", family, "--models", "sllm", "--weights", "f32", "--limit", "1", "--json"])
        XCTAssertEqual(f32.status, 0, f32.err)
        XCTAssertEqual((try CommandRunner.json(f32.out)["results"] as? [[String: Any]])?.first?["weights"] as? String, "f32")
        let wrong = try CommandRunner.run(["bench", "generate", "--family", family, "--models", "sllm-h1"])
        XCTAssertTrue(wrong.err.contains("with --family choose from opt, sllm"), wrong.err)
        let missing = try CommandRunner.run(["bench", "generate", "--family", "/nonexistent-family"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("is not a complete default model family"), missing.err)
    }

    func testBadOptionsAreRefused() throws {
        let models = try CommandRunner.run(["bench", "generate", "--models", "opt,gpt2"])
        XCTAssertNotEqual(models.status, 0)
        XCTAssertTrue(models.err.contains("unknown model 'gpt2'"), models.err)
        let formats = try CommandRunner.run(["bench", "generate", "--weights", "int4"])
        XCTAssertNotEqual(formats.status, 0)
        XCTAssertTrue(formats.err.contains("unknown weight format 'int4'"), formats.err)
        let file = NSTemporaryDirectory() + "passages-\(UUID().uuidString).json"
        try #"{"passages": [{"sentences": [[2, 5]]}]}"#.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let short = try CommandRunner.run(["bench", "generate", "--passages", file])
        XCTAssertNotEqual(short.status, 0)
        XCTAssertTrue(short.err.contains("no passage has 2 or more sentences"), short.err)
    }

    /// A name given twice would be one measurement reported as two rows (and two JSON results).
    func testListsNamingAnItemTwiceAreRefused() throws {
        for (arguments, message) in [(["--models", "opt,sllm-h1,opt"], "--models names 'opt' twice"),
                                     (["--weights", "q8,f32,q8"], "--weights names 'q8' twice"),
                                     (["--models", "opt,,sllm-h1"], "--models has an empty item")] {
            let r = try CommandRunner.run(["bench", "generate"] + arguments)
            XCTAssertNotEqual(r.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(r.err.contains(message), r.err)
        }
        let opt = try CommandRunner.run(["bench", "opt", "--weights", "f32,bf16,f32"])
        XCTAssertNotEqual(opt.status, 0)
        XCTAssertTrue(opt.err.contains("--weights names 'f32' twice"), opt.err)
    }

    /// --passages files that are not the passages layout: each error names the file and what is wrong.
    func testUnreadablePassagesSayWhatIsWrong() throws {
        let directory = NSTemporaryDirectory() + "passages-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files: [(String, Data, String)] = [
            ("empty.json", Data(), "is empty"),
            ("bad.json", Data([0xFF, 0xFE, 0x41, 0xC3, 0x28]), "is not valid JSON"),
            ("text.json", Data("Some sentences. Not JSON.".utf8), "is not valid JSON"),
            ("other.json", Data(#"{"sentences": [[2, 5]]}"#.utf8), #"no "passages" list"#),
        ]
        for (name, data, message) in files {
            let path = directory + "/" + name
            try data.write(to: URL(fileURLWithPath: path))
            let r = try CommandRunner.run(["bench", "generate", "--models", "opt", "--passages", path])
            XCTAssertNotEqual(r.status, 0, name)
            XCTAssertTrue(r.err.contains(path) && r.err.contains(message) && r.err.contains(#"{"passages": "#), r.err)
        }
        let missing = try CommandRunner.run(["bench", "generate", "--models", "opt", "--passages", directory + "/none.json"])
        XCTAssertTrue(missing.status != 0 && missing.err.contains("no such file"), missing.err)
        let folder = try CommandRunner.run(["bench", "generate", "--models", "opt", "--passages", directory])
        XCTAssertTrue(folder.status != 0 && folder.err.contains("is a directory"), folder.err)
    }
}
