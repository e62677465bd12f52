import Foundation
import ModelIO
import XCTest

/// `train`, `eval`, `export` and `plot` through the built binary, on the tiny SVAE config and a
/// corpus made of the fixture sentences (one document each).
final class TrainCommandTests: XCTestCase {
    var directory = ""
    var corpus: String { directory + "/corpus.txt" }

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "train-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let lines = try String(contentsOfFile: CommandRunner.fixture("corpus.txt"), encoding: .utf8).split(separator: "\n")
        try lines.joined(separator: "\n\n").write(toFile: corpus, atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// A short run: few iterations, small batch, checkpoints and evaluations every few steps.
    func trainArguments(_ work: String, iters: Int = 6, extra: [String] = []) -> [String] {
        ["train", "svae", "-c", CommandRunner.fixture("svae-tiny.yaml"), "--data", corpus, "--eval-documents", "8",
         "--work-dir", work, "--threads", "1",
         "--set", "max_iters=\(iters)", "--set", "batch_size=4", "--set", "save_checkpoint_iters=2", "--set", "val_iters=3",
         "--set", "log_iters=1", "--set", "ema_momentum=0.2", "--set", "resume_train=false", "--set", "max_keep_ckpts=2"] + extra
    }

    func testTrainWritesTheWorkDirectoryContract() throws {
        let work = directory + "/run"
        let r = try CommandRunner.run(trainArguments(work))
        XCTAssertEqual(r.status, 0, r.err)
        for file in ["latest.safetensors", "best.safetensors", "final.safetensors", "metrics.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: work + "/" + file), file)
        }
        let records = try String(contentsOfFile: work + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map { try CommandRunner.json(String($0)) }
        let steps = records.filter { $0["loss"] != nil }
        XCTAssertEqual(steps.map { $0["iter"] as? Int }, [1, 2, 3, 4, 5, 6])
        for key in ["loss", "lr", "tokens_per_s"] { XCTAssertNotNil(steps[0][key], key) }
        XCTAssertEqual(records.filter { $0["eval_ppl"] != nil }.map { $0["iter"] as? Int }, [3, 6])
        let events = try FileManager.default.contentsOfDirectory(atPath: work + "/tensorboard")
        XCTAssertEqual(events.filter { $0.hasPrefix("events.out.tfevents.") }.count, 1)

        // The model file works with svae and eval, and eval's JSON has the contract's keys.
        let svae = try CommandRunner.run(["svae", "-c", CommandRunner.fixture("svae-tiny.yaml"), "--checkpoint", work + "/latest.safetensors",
                                          "--input", "A funny dad he was.", "--json"])
        XCTAssertEqual(svae.status, 0, svae.err)
        let eval = try CommandRunner.run(["eval", "svae", "-c", CommandRunner.fixture("svae-tiny.yaml"), "--checkpoint", work + "/best.safetensors",
                                          "--data", corpus, "--eval-documents", "8", "--json"])
        XCTAssertEqual(eval.status, 0, eval.err)
        let figures = try CommandRunner.json(eval.out)
        for key in ["ppl", "token_accuracy", "exact_match", "sentences"] { XCTAssertNotNil(figures[key], key) }
        XCTAssertEqual(figures["sentences"] as? Int, figures["items"] as? Int)
        // The length buckets partition the sentences and the tokens.
        let buckets = try XCTUnwrap(figures["by_length"] as? [[String: Any]])
        XCTAssertEqual(buckets.map { $0["sentences"] as! Int }.reduce(0, +), figures["sentences"] as? Int)
        XCTAssertEqual(buckets.map { $0["reconstructed_tokens"] as! Int }.reduce(0, +), figures["reconstructed_tokens"] as? Int)
        // The trainer's last eval (on the EMA weights it saved) is eval's figure.
        let trainerPPL = records.last { $0["eval_ppl"] != nil }!["eval_ppl"] as! Double
        XCTAssertEqual(figures["ppl"] as! Double, trainerPPL, accuracy: 1e-4 * trainerPPL)

        // Export to the original's .pth and back: the same tensors.
        let pth = directory + "/model.pth"
        let export = try CommandRunner.run(["export", work + "/latest.safetensors", "--to", pth])
        XCTAssertEqual(export.status, 0, export.err)
        let a = try loadStateDict(path: work + "/latest.safetensors"), b = try loadStateDict(path: pth)
        XCTAssertEqual(a.names.sorted(), b.names.sorted())
        for n in a.names { XCTAssertEqual(try a.tensor(n).floats(), try b.tensor(n).floats(), n) }

        let plot = try CommandRunner.run(["plot", work, "-o", directory + "/curves.svg"])
        XCTAssertEqual(plot.status, 0, plot.err)
        XCTAssertTrue(try String(contentsOfFile: directory + "/curves.svg", encoding: .utf8).contains("<svg"))
    }

    /// `eval sllm` and `eval opt` on the tiny models: the original's figures, and the comparable
    /// figure over the same tokens of the same passages (same denominator for both).
    func testEvalSLLMAndOPTShareTheComparableTokens() throws {
        let passages = directory + "/passages.txt"
        let lines = try String(contentsOfFile: CommandRunner.fixture("corpus.txt"), encoding: .utf8).split(separator: "\n")
        // Documents of two lines each (short enough for the tiny OPT's 64 positions).
        try stride(from: 0, to: 40, by: 2).map { lines[$0..<($0 + 2)].joined(separator: " ") }.joined(separator: "\n\n")
            .write(toFile: passages, atomically: true, encoding: .utf8)
        let sllm = try CommandRunner.run(["eval", "sllm", "-c", CommandRunner.fixture("sllm-tiny.yaml"), "--checkpoint", CommandRunner.fixture("sllm-tiny.pth"),
                                          "--data", passages, "--eval-documents", "6", "--json"])
        XCTAssertEqual(sllm.status, 0, sllm.err)
        let opt = try CommandRunner.run(["eval", "opt", "-c", CommandRunner.fixture("opt-tiny.yaml"), "--data", passages, "--eval-documents", "6", "--json"])
        XCTAssertEqual(opt.status, 0, opt.err)
        let (s, o) = (try CommandRunner.json(sllm.out), try CommandRunner.json(opt.out))
        XCTAssertEqual(s["comparable_passages"] as? Int, 6)
        XCTAssertEqual(o["comparable_passages"] as? Int, 6)
        XCTAssertEqual(s["comparable_tokens"] as? Int, o["comparable_tokens"] as? Int)
        XCTAssertGreaterThan(s["comparable_tokens"] as! Int, 6 * 3)
        for f in [s, o] {
            for key in ["ppl", "ppl_original", "comparable_ppl"] {
                XCTAssertTrue((f[key] as? Double).map { $0.isFinite && $0 > 1 } ?? false, "\(key): \(f)")
            }
        }
        let accuracy = try XCTUnwrap(s["stop_accuracy"] as? Double)
        XCTAssertTrue((0...1).contains(accuracy))
        XCTAssertGreaterThanOrEqual(s["stop_decisions"] as! Int, 12)
        // Free generation from each passage's first half: every passage has 2+ sentences here.
        XCTAssertEqual(s["stop_prompts"] as? Int, 6)
        let share = try XCTUnwrap(s["stop_before_cap"] as? Double)
        XCTAssertTrue((0...1).contains(share))
        XCTAssertGreaterThanOrEqual(s["generated_sentences_mean"] as! Double, 0)

        // The same limits for both: passages of at most 2 sentences are scored, the others skipped.
        var limited: [[String: Any]] = []
        // (The SLLM's free generation sampled here: tokens and stop decisions drawn at temperature 1.)
        for (kind, extra) in [("sllm", ["-c", CommandRunner.fixture("sllm-tiny.yaml"), "--checkpoint", CommandRunner.fixture("sllm-tiny.pth"),
                                        "--temperature", "1", "--seed", "3"]),
                              ("opt", ["-c", CommandRunner.fixture("opt-tiny.yaml")])] {
            let r = try CommandRunner.run(["eval", kind] + extra + ["--data", passages, "--eval-documents", "6", "--json", "--comparable-within", "2,64,64"])
            XCTAssertEqual(r.status, 0, r.err)
            limited.append(try CommandRunner.json(r.out))
        }
        XCTAssertEqual(limited[0]["stop_prompts"] as? Int, 6)
        XCTAssertTrue((0...1).contains(limited[0]["stop_before_cap"] as? Double ?? -1))
        XCTAssertEqual(limited[0]["comparable_passages"] as? Int, limited[1]["comparable_passages"] as? Int)
        XCTAssertEqual(limited[0]["comparable_tokens"] as? Int, limited[1]["comparable_tokens"] as? Int)
        XCTAssertLessThan(limited[1]["comparable_passages"] as! Int, 6)
        XCTAssertEqual((limited[1]["comparable_passages"] as! Int) + (limited[1]["comparable_skipped"] as! Int), 6)
        let bad = try CommandRunner.run(["eval", "opt", "-c", CommandRunner.fixture("opt-tiny.yaml"), "--data", passages, "--comparable-within", "2,64"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("three positive whole numbers"), bad.err)
    }

    /// OPT from a bare config.json trains from scratch (the tokenizer from tokenizer_dir); from an
    /// OPT directory it continues from the directory's weights.
    func testTrainOPTFromScratchOrFromADirectory() throws {
        let base = ["train", "opt", "-c", CommandRunner.fixture("opt-tiny.yaml"), "--data", corpus, "--eval-documents", "4",
                    "--threads", "1", "--set", "max_iters=2", "--set", "val_iters=2"]
        let scratch = try CommandRunner.run(base + ["--work-dir", directory + "/scratch", "--set", "ref_model_dir=\(CommandRunner.fixture("tiny-opt/config.json"))",
                                                    "--set", "tokenizer_dir=\(CommandRunner.fixture("tiny-opt"))"])
        XCTAssertEqual(scratch.status, 0, scratch.err)
        XCTAssertTrue(scratch.err.contains("from scratch"), scratch.err)
        let noTokenizer = try CommandRunner.run(base + ["--work-dir", directory + "/none", "--set", "ref_model_dir=\(CommandRunner.fixture("tiny-opt/config.json"))"])
        XCTAssertNotEqual(noTokenizer.status, 0)
        XCTAssertTrue(noTokenizer.err.contains("tokenizer_dir"), noTokenizer.err)
        let continued = try CommandRunner.run(base + ["--work-dir", directory + "/continued"])
        XCTAssertEqual(continued.status, 0, continued.err)
        XCTAssertTrue(continued.err.contains("continuing from the weights"), continued.err)
        // The trained model generates through llm --checkpoint.
        let llm = try CommandRunner.run(["llm", "--model", CommandRunner.fixture("tiny-opt"), "--checkpoint", directory + "/scratch/latest.safetensors",
                                         "--input", "Hello", "--max-new-tokens", "2", "--json"])
        XCTAssertEqual(llm.status, 0, llm.err)
        XCTAssertEqual((try CommandRunner.json(llm.out)["output_ids"] as? [Int])?.count, 2)

        // export --hf-dir: the trained model as an HF directory that llm --model runs on its own,
        // with the same greedy output; an SLLM could take its layers (llm.ref_model_dir).
        let hf = directory + "/opt-hf"
        let export = try CommandRunner.run(["export", directory + "/scratch/latest.safetensors", "--hf-dir", hf, "--reference", CommandRunner.fixture("tiny-opt")])
        XCTAssertEqual(export.status, 0, export.err)
        for file in ["config.json", "model.safetensors", "vocab.json", "merges.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: hf + "/" + file), file)
        }
        XCTAssertEqual(try HFModelDirectory(path: hf).optStateDict().names.sorted(), try loadStateDict(path: directory + "/scratch/latest.safetensors").names.sorted())
        let alone = try CommandRunner.run(["llm", "--model", hf, "--input", "Hello", "--max-new-tokens", "2", "--json"])
        XCTAssertEqual(alone.status, 0, alone.err)
        XCTAssertEqual(try CommandRunner.json(alone.out)["output_ids"] as? [Int], try CommandRunner.json(llm.out)["output_ids"] as? [Int])
        // Again over the previous directory: replaced. A checkpoint that does not fit config.json, a
        // reference without a tokenizer, or an output that holds the input: refused, nothing written.
        XCTAssertEqual(try CommandRunner.run(["export", directory + "/scratch/latest.safetensors", "--hf-dir", hf, "--reference", CommandRunner.fixture("tiny-opt")]).status, 0)
        let misfit = try CommandRunner.run(["export", CommandRunner.fixture("svae-tiny.pth"), "--hf-dir", directory + "/bad", "--reference", CommandRunner.fixture("tiny-opt")])
        XCTAssertNotEqual(misfit.status, 0)
        XCTAssertTrue(misfit.err.contains("does not fit"), misfit.err)
        let bare = directory + "/bare"
        try FileManager.default.createDirectory(atPath: bare, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: CommandRunner.fixture("tiny-opt/config.json"), toPath: bare + "/config.json")
        let noVocab = try CommandRunner.run(["export", directory + "/scratch/latest.safetensors", "--hf-dir", directory + "/bad", "--reference", bare])
        XCTAssertTrue(noVocab.err.contains("tokenizer"), noVocab.err)
        let inside = try CommandRunner.run(["export", directory + "/scratch/latest.safetensors", "--hf-dir", directory + "/scratch", "--reference", CommandRunner.fixture("tiny-opt")])
        XCTAssertTrue(inside.err.contains("choose another --hf-dir"), inside.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/bad"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/scratch/latest.safetensors"))
    }

    /// Stopping half-way and resuming gives the same model file, bit for bit.
    func testResumeThroughTheCommandLine() throws {
        let whole = directory + "/whole", split = directory + "/split"
        XCTAssertEqual(try CommandRunner.run(trainArguments(whole)).status, 0)
        XCTAssertEqual(try CommandRunner.run(trainArguments(split, iters: 3)).status, 0)
        let again = try CommandRunner.run(trainArguments(split))
        XCTAssertNotEqual(again.status, 0, "a second run without --resume must be refused")
        XCTAssertTrue(again.err.contains("--resume"), again.err)
        let resumed = try CommandRunner.run(trainArguments(split, extra: ["--resume"]))
        XCTAssertEqual(resumed.status, 0, resumed.err)
        let a = try Data(contentsOf: URL(fileURLWithPath: whole + "/checkpoints/iter_0000006.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: split + "/checkpoints/iter_0000006.safetensors"))
        XCTAssertEqual(a, b)
    }

    /// kill -9 at random moments of a run that checkpoints every iteration: afterwards the newest
    /// complete checkpoint always loads, `latest.safetensors` always loads, and --resume finishes.
    func testKillNineLeavesALoadableCheckpoint() throws {
        let work = directory + "/killed"
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        for round in 0..<6 {
            let p = Process()
            p.executableURL = CommandRunner.binary
            p.arguments = trainArguments(work, iters: 400, extra: ["--set", "save_checkpoint_iters=1", "--set", "val_iters=1000"] + (round > 0 ? ["--resume"] : []))
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32.random(in: 400_000...1_500_000, using: &generator))
            if p.isRunning { kill(p.processIdentifier, SIGKILL); kills += 1 }
            p.waitUntilExit()
            let checkpoints = try FileManager.default.contentsOfDirectory(atPath: work + "/checkpoints")
            let states = checkpoints.filter { $0.hasSuffix(".state.safetensors") }.sorted()
            guard let newest = states.last else { continue }
            let model = work + "/checkpoints/" + newest.replacingOccurrences(of: ".state.safetensors", with: ".safetensors")
            XCTAssertNoThrow(try loadStateDict(path: model), "round \(round): \(model)")
            XCTAssertNoThrow(try SafetensorsFile(path: work + "/checkpoints/" + newest), "round \(round): \(newest)")
            XCTAssertNoThrow(try loadStateDict(path: work + "/latest.safetensors"), "round \(round): latest")
        }
        XCTAssertGreaterThan(kills, 0, "no run was killed: the test did not test anything")
        let finish = try CommandRunner.run(trainArguments(work, iters: 400, extra: ["--set", "save_checkpoint_iters=1", "--set", "val_iters=1000",
                                                                                   "--set", "max_iters=1", "--resume"]))
        XCTAssertEqual(finish.status, 0, finish.err)
    }

    /// Ctrl-C stops after the current iteration with a checkpoint of it; --resume finishes the run.
    func testInterruptWritesACheckpoint() throws {
        let work = directory + "/interrupted"
        let p = Process()
        p.executableURL = CommandRunner.binary
        p.arguments = trainArguments(work, iters: 400, extra: ["--set", "save_checkpoint_iters=1000", "--set", "val_iters=1000"])
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        // Wait until it has trained a little (metrics.jsonl has lines), then interrupt.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? String(contentsOfFile: work + "/metrics.jsonl", encoding: .utf8)) ?? "").isEmpty { usleep(50_000) }
        kill(p.processIdentifier, SIGINT)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130, text)
        XCTAssertTrue(text.contains("interrupted"), text)
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: work + "/checkpoints").filter { $0.hasSuffix(".state.safetensors") }
        XCTAssertEqual(checkpoints.count, 1, "\(checkpoints)")
        let resumed = try CommandRunner.run(trainArguments(work, iters: 400, extra: ["--set", "max_iters=\(checkpointIteration(checkpoints[0]) + 2)", "--resume"]))
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertTrue(resumed.err.contains("resumed from iteration \(checkpointIteration(checkpoints[0]))"), resumed.err)
    }

    func checkpointIteration(_ name: String) -> Int {
        Int(name.dropFirst("iter_".count).prefix(7))!
    }

    func testBadInputIsReportedClearly() throws {
        func fails(_ args: [String], _ needle: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let r = try CommandRunner.run(args)
            XCTAssertNotEqual(r.status, 0, file: file, line: line)
            XCTAssertTrue(r.err.contains(needle), "expected '\(needle)' in: \(r.err)", file: file, line: line)
        }
        let work = directory + "/bad"
        let empty = directory + "/empty.txt"
        try "\n\n".write(toFile: empty, atomically: true, encoding: .utf8)
        try fails(trainArguments(work).map { $0 == corpus ? empty : $0 }, "no documents")
        try fails(trainArguments(work, extra: ["--eval-documents", "5000"]), "eval split")
        try fails(trainArguments(work, iters: 0), "max_iters")
        try fails(trainArguments(work).map { $0 == corpus ? directory + "/missing.txt" : $0 }, "missing.txt")
        try fails(trainArguments(work, extra: ["--set", "batch_size"]), "key=value")
        let bad = directory + "/bad.txt"
        try Data([0x48, 0x69, 0x0A, 0x0A, 0xC3, 0x28]).write(to: URL(fileURLWithPath: bad))
        try fails(trainArguments(work).map { $0 == corpus ? bad : $0 }, "UTF-8")
        // A config with only the model's keys can evaluate but not train; the error names the keys.
        let modelOnly = directory + "/model.yaml"
        try "learnable_add: false\nref_model_dir: \(CommandRunner.fixture("tiny-opt"))\nnum_hidden_layers: 1\nmax_seq_len: 32\n"
            .write(toFile: modelOnly, atomically: true, encoding: .utf8)
        try fails(["train", "svae", "-c", modelOnly, "--data", corpus, "--work-dir", work], "batch_size")
        let eval = try CommandRunner.run(["eval", "svae", "-c", modelOnly, "--checkpoint", CommandRunner.fixture("svae-tiny.pth"),
                                          "--data", corpus, "--eval-documents", "4", "--json"])
        XCTAssertEqual(eval.status, 0, eval.err)
        // A work directory of another model is refused on --resume.
        let other = directory + "/other"
        XCTAssertEqual(try CommandRunner.run(trainArguments(other, iters: 2)).status, 0)
        try fails(trainArguments(other, extra: ["--set", "num_hidden_layers=2", "--resume"]), "another model")
        // A data server that is not there.
        try fails(trainArguments(work).map { $0 == corpus ? "http://127.0.0.1:9" : $0 }, "127.0.0.1:9")
    }
}
