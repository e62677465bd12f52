import Foundation
import XCTest

/// `bench opt --torch`: the reference command runs after each of our rounds and the ratios are
/// taken inside each round. A stand-in script plays PyTorch here (a fixed JSON line), so the test
/// needs no Python and knows what each ratio must be.
final class BenchOPTCommandTests: XCTestCase {
    func testRatiosAgainstTheReferenceAreTakenInsideEachRound() throws {
        let script = NSTemporaryDirectory() + "fake-torch-\(UUID().uuidString).sh"
        try """
            #!/bin/sh
            case "$*" in *"--prefills 5 "*|*"--prefills 3 "*) ;; *) echo "no --prefills in: $*" >&2; exit 3;; esac
            echo '{"prefill_tokens_per_s": 100.0, "decode_tokens_per_s": 10.0, "args": "'"$*"'"}'
            """.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        defer { try? FileManager.default.removeItem(atPath: script) }

        let r = try CommandRunner.run(["bench", "opt", "--prompt", "2", "--tokens", "1", "--rounds", "2", "--threads", "2", "--torch", script])
        XCTAssertEqual(r.status, 0, r.err)
        let lines = r.out.split(separator: "\n").map(String.init)
        if FileManager.default.fileExists(atPath: "/proc/cpuinfo") {
            XCTAssertTrue(lines.first?.hasPrefix("CPU: ") == true && lines[0].contains(" family "), "which CPU the figures are from:\n\(r.out)")
        }
        func number(after marker: String, in line: String) -> Double? {
            guard let range = line.range(of: marker) else { return nil }
            return Double(line[range.upperBound...].prefix { $0.isNumber || $0 == "." })
        }
        let decodes = lines.filter { $0.hasPrefix("[f32 round") && $0.contains("] decode") }.compactMap { number(after: "tokens: ", in: $0) }
        XCTAssertEqual(decodes.count, 2, r.out)
        XCTAssertEqual(lines.filter { $0.hasPrefix("[PyTorch round") && $0.contains("prefill 100.0 tokens/s, decode 10.0 tokens/s") }.count, 2, r.out)
        let summary = try XCTUnwrap(lines.first { $0.hasPrefix("ours / PyTorch (fp32), inside each round: decode ") }, r.out)
        let ratios = summary.dropFirst("ours / PyTorch (fp32), inside each round: decode ".count).prefix { $0 != "(" }
            .split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        XCTAssertEqual(ratios.count, 2, summary)
        // Both are printed rounded (decode to 0.1, the ratio to 0.01).
        for (ratio, decode) in zip(ratios, decodes) { XCTAssertEqual(ratio, decode / 10, accuracy: 0.011, summary) }
        XCTAssertTrue(summary.contains("(median "), summary)

        // --json: the same figures unrounded, so the ratios are exact.
        // Three tokens each, decoded in turns of two (each turn in a shuffled order).
        let j = try CommandRunner.run(["bench", "opt", "--prompt", "2", "--tokens", "3", "--decode-turn", "2", "--rounds", "2", "--threads", "2",
                                       "--weights", "f32,q8", "--prefills", "3", "--torch", script, "--json"])
        XCTAssertEqual(j.status, 0, j.err)
        let object = try CommandRunner.json(j.out)
        XCTAssertEqual(object["prefills"] as? Int, 3)
        XCTAssertEqual(object["decode_turn"] as? Int, 2)
        let results = try XCTUnwrap(object["results"] as? [[String: Any]])
        XCTAssertEqual(results.map { $0["weights"] as? String }, ["f32", "q8"])
        let decode = try XCTUnwrap(results[0]["decode_rounds"] as? [Double])
        XCTAssertEqual(decode.count, 2)
        XCTAssertEqual(results[0]["decode_tokens_per_s"] as! Double, (decode[0] + decode[1]) / 2, accuracy: 1e-9)
        // q8's decode speed over f32's, inside each round.
        let q8 = try XCTUnwrap(results[1]["decode_rounds"] as? [Double])
        let q8Ratios = try XCTUnwrap(results[1]["decode_ratio_rounds"] as? [Double])
        XCTAssertEqual(q8Ratios.count, 2)
        for i in 0..<2 { XCTAssertEqual(q8Ratios[i], q8[i] / decode[i], accuracy: 1e-9) }
        XCTAssertEqual(results[1]["decode_ratio_median"] as! Double, (q8Ratios[0] + q8Ratios[1]) / 2, accuracy: 1e-9)
        let inside = try XCTUnwrap(object["ratios"] as? [String: Any])
        let exact = try XCTUnwrap(inside["decode_rounds"] as? [Double])
        for i in 0..<2 { XCTAssertEqual(exact[i], decode[i] / 10, accuracy: 1e-9) }
        XCTAssertEqual(inside["decode_median"] as! Double, (exact[0] + exact[1]) / 2, accuracy: 1e-9)
        XCTAssertEqual(object["kv_cache_kb_per_token"] as? Double, 72)

        let compactOnly = try CommandRunner.run(["bench", "opt", "--weights", "q8", "--torch", script])
        XCTAssertNotEqual(compactOnly.status, 0)
        XCTAssertTrue(compactOnly.err.contains("include f32"), compactOnly.err)
        let noPrefills = try CommandRunner.run(["bench", "opt", "--prompt", "2", "--tokens", "1", "--prefills", "0"])
        XCTAssertNotEqual(noPrefills.status, 0)
        XCTAssertTrue(noPrefills.err.contains("--prefills"), noPrefills.err)
        // --all-kernels: each format on every kernel this CPU runs, its default first, portable last.
        let kernels = try CommandRunner.run(["bench", "opt", "--prompt", "2", "--tokens", "1", "--weights", "f32,q8", "--all-kernels",
                                             "--prefills", "1", "--json"])
        XCTAssertEqual(kernels.status, 0, kernels.err)
        let timed = try XCTUnwrap(try CommandRunner.json(kernels.out)["results"] as? [[String: Any]])
        for format in ["f32", "q8"] {
            let names = timed.filter { $0["weights"] as? String == format }.compactMap { $0["kernel"] as? String }
            XCTAssertGreaterThanOrEqual(names.count, 2, "\(format): \(names)")
            XCTAssertEqual(Set(names).count, names.count, "\(format): \(names)")
            XCTAssertEqual(names.last, "portable")
        }
        XCTAssertEqual(timed.first?["weights"] as? String, "f32")
        XCTAssertEqual(timed.first?["decode_ratio_median"] as? Double, 1)
        let noTurn = try CommandRunner.run(["bench", "opt", "--prompt", "2", "--tokens", "1", "--decode-turn", "0"])
        XCTAssertNotEqual(noTurn.status, 0)
        XCTAssertTrue(noTurn.err.contains("--decode-turn"), noTurn.err)
        let notTheScript = try CommandRunner.run(["bench", "opt", "--prompt", "2", "--tokens", "1", "--torch", "true"])
        XCTAssertNotEqual(notTheScript.status, 0)
        XCTAssertTrue(notTheScript.err.contains("PyTorch"), notTheScript.err)
    }
}
