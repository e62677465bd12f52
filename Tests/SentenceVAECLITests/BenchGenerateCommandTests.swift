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
}
