import Foundation
import XCTest

/// `sentencevae demo` and the default-model fallback of `svae`, `sllm` and `llm`, end to end on
/// the tiny family in Fixtures/tiny-family (untrained-looking output; what is checked is the
/// contract: the three parts, their timings, greedy determinism, and the same results as naming
/// the files).
final class DemoCommandTests: XCTestCase {
    var family: String { CommandRunner.fixture("tiny-family") }

    /// The outputs without the timings, which change from run to run.
    func outputs(_ json: [String: Any]) -> [String: Any] {
        var out = json
        for part in ["svae", "sllm", "llm"] {
            guard var section = out[part] as? [String: Any] else { continue }
            section["seconds"] = nil
            section["tokens_per_s"] = nil
            out[part] = section
        }
        return out
    }

    func testDemoPrintsThreePartsWithTokensPerSecond() throws {
        let r = try CommandRunner.run(["demo", "--models", family])
        XCTAssertEqual(r.status, 0, r.err)
        for part in ["Default models:", "1. SentenceVAE", "2. SentenceLLM", "3. OPT baseline", "tokens/s", "× the tokens per second"] {
            XCTAssertTrue(r.out.contains(part), "'\(part)' in:\n\(r.out)")
        }
        XCTAssertEqual(r.out.components(separatedBy: "tokens/s)").count - 1, 3, "one timing line per part:\n\(r.out)")
    }

    /// The closing hint on repetition: there exactly when plain greedy decoding gave the SLLM a
    /// sentence twice, never once a decoding option is set.
    func testRepetitionHintFollowsTheOutput() throws {
        let json = try CommandRunner.json(try CommandRunner.run(["demo", "--models", family, "--json"]).out)
        let texts = ((json["sllm"] as? [String: Any])?["sentences"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
        XCTAssertFalse(texts.isEmpty)
        let plain = try CommandRunner.run(["demo", "--models", family])
        XCTAssertEqual(plain.status, 0, plain.err)
        XCTAssertEqual(plain.out.contains("repeats itself"), Set(texts).count < texts.count, plain.out)
        let penalised = try CommandRunner.run(["demo", "--models", family, "--repetition-penalty", "1.3"])
        XCTAssertEqual(penalised.status, 0, penalised.err)
        XCTAssertFalse(penalised.out.contains("repeats itself"), penalised.out)
    }

    /// Greedy decoding: the same continuation on every run and at any thread count; the OPT baseline
    /// generates as many tokens as the SLLM did (or stops at EOS).
    func testDemoIsDeterministic() throws {
        let runs = try [["--threads", "1"], ["--threads", "2"], []].map { extra -> [String: Any] in
            let r = try CommandRunner.run(["demo", "--models", family, "--json"] + extra)
            XCTAssertEqual(r.status, 0, r.err)
            return try CommandRunner.json(r.out)
        }
        let first = outputs(runs[0])
        for run in runs.dropFirst() { XCTAssertEqual(NSDictionary(dictionary: outputs(run)), NSDictionary(dictionary: first)) }
        let sllm = try XCTUnwrap(first["sllm"] as? [String: Any]), llm = try XCTUnwrap(first["llm"] as? [String: Any])
        let sentences = try XCTUnwrap(sllm["sentences"] as? [[String: Any]])
        XCTAssertFalse(sentences.isEmpty || sentences.count > 6, "\(sentences.count) sentences")
        XCTAssertEqual(sllm["tokens"] as? Int, sentences.reduce(0) { $0 + (($1["ids"] as? [Int])?.count ?? 0) })
        let output = try XCTUnwrap(llm["output_ids"] as? [Int])
        XCTAssertTrue(output.count == sllm["tokens"] as? Int || output.last == 2, "\(output.count) OPT tokens")
        let svae = try XCTUnwrap(first["svae"] as? [String: Any])
        XCTAssertEqual((svae["results"] as? [Any])?.count, 4)
    }

    /// With no model named, svae, sllm and llm run the default models: the same results as naming
    /// the family's files (with the format they hold).
    func testCommandsFallBackOnTheDefaultModels() throws {
        let env: [String: String?] = ["SENTENCEVAE_MODELS": family]
        let pairs: [([String], [String])] = [
            (["svae", "--input", "It is a truth universally acknowledged,", "--json"],
             ["svae", "-c", family + "/svae.yaml", "--checkpoint", family + "/svae.safetensors", "--weights", "q8",
              "--set", "ref_model_dir=\(family)/opt", "--input", "It is a truth universally acknowledged,", "--json"]),
            (["sllm", "--input", "It is a truth universally acknowledged, that a single man", "--json", "--max-sentences", "2"],
             ["sllm", "-c", family + "/sllm.yaml", "--checkpoint", family + "/sllm.safetensors", "--weights", "q8",
              "--input", "It is a truth universally acknowledged, that a single man", "--json", "--max-sentences", "2"]),
            (["llm", "--input", "It is a truth", "--max-new-tokens", "5", "--json"],
             ["llm", "--model", family + "/opt", "--weights", "q8", "--input", "It is a truth", "--max-new-tokens", "5", "--json"]),
        ]
        for (implicit, explicit) in pairs {
            let a = try CommandRunner.run(implicit, environment: env), b = try CommandRunner.run(explicit, in: family)
            XCTAssertEqual(a.status, 0, a.err)
            XCTAssertEqual(b.status, 0, b.err)
            XCTAssertEqual(a.out, b.out, implicit[0])
            XCTAssertTrue(a.err.contains("weights: q8"), "\(implicit[0]) reads the stored format: \(a.err)")
        }
    }

    func testMissingModelsAreClearErrors() throws {
        let nowhere = NSTemporaryDirectory() + "no-models-\(UUID().uuidString)"
        let demo = try CommandRunner.run(["demo", "--models", nowhere])
        XCTAssertNotEqual(demo.status, 0)
        XCTAssertTrue(demo.err.contains("Tools/train-default-models"), demo.err)
        let svae = try CommandRunner.run(["svae", "--json"], environment: ["SENTENCEVAE_MODELS": nowhere])
        XCTAssertNotEqual(svae.status, 0)
        XCTAssertTrue(svae.err.contains("SENTENCEVAE_MODELS"), svae.err)
        // Half a model on the command line is a usage error, not a silent fallback.
        let half = try CommandRunner.run(["svae", "-c", family + "/svae.yaml"])
        XCTAssertNotEqual(half.status, 0)
        XCTAssertTrue(half.err.contains("both -c/--config and --checkpoint"), half.err)
    }
}
