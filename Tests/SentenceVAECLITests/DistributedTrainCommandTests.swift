import Foundation
import ModelIO
import XCTest

/// `mpirun -np 2 sentencevae train …` against single-process runs on the same global batches.
/// Skipped where Open MPI's `mpirun` is not installed (Tools/install-deps installs it on Linux).
final class DistributedTrainCommandTests: XCTestCase {
    var directory = ""
    var corpus: String { directory + "/corpus.txt" }

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "mpi-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let lines = try String(contentsOfFile: CommandRunner.fixture("corpus.txt"), encoding: .utf8).split(separator: "\n")
        try lines.joined(separator: "\n\n").write(toFile: corpus, atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// `mpirun` on PATH, or a skip.
    func mpirun() throws -> URL {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { String($0) + "/mpirun" }
        guard let path = paths.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
        }
        return URL(fileURLWithPath: path)
    }

    /// Dropout on (the tiny config's), batch 6, a checkpoint every 2 iterations.
    func trainArguments(_ work: String, iters: Int = 4, extra: [String] = []) -> [String] {
        ["train", "svae", "-c", CommandRunner.fixture("svae-tiny.yaml"), "--data", corpus, "--eval-documents", "8",
         "--work-dir", work, "--threads", "1",
         "--set", "max_iters=\(iters)", "--set", "batch_size=6", "--set", "save_checkpoint_iters=2", "--set", "val_iters=2",
         "--set", "log_iters=1", "--set", "ema_momentum=0.2", "--set", "resume_train=false", "--set", "max_keep_ckpts=3"] + extra
    }

    func launch(ranks: Int, _ arguments: [String]) throws -> CommandRunner.Output {
        let mpi = ["-np", "\(ranks)", "--oversubscribe"] + (getuid() == 0 ? ["--allow-run-as-root"] : [])
        return try CommandRunner.run(executable: try mpirun(), mpi + [CommandRunner.binary.path] + arguments)
    }

    func weights(_ path: String) throws -> [String: [Float]] {
        let dict = try loadStateDict(path: path)
        return try Dictionary(uniqueKeysWithValues: dict.names.map { ($0, try dict.tensor($0).floats()) })
    }

    /// ‖a − b‖ / ‖a‖ over every tensor together.
    func relativeDistance(_ a: [String: [Float]], _ b: [String: [Float]]) -> Double {
        var diff = 0.0, norm = 0.0
        for (name, x) in a {
            let y = b[name]!
            for (u, v) in zip(x, y) { diff += Double(u - v) * Double(u - v); norm += Double(u) * Double(u) }
        }
        return (diff / norm).squareRoot()
    }

    /// Largest element difference relative to the tensor's largest magnitude, over all tensors.
    func largestTensorDifference(_ a: [String: [Float]], _ b: [String: [Float]]) -> Double {
        a.map { name, x in
            let y = b[name]!
            let scale = max(x.map { abs(Double($0)) }.max() ?? 0, 1e-12)
            return zip(x, y).map { abs(Double($0 - $1)) }.max()! / scale
        }.max()!
    }

    /// Two ranks take the single-process step. Against one process that splits the batch the same
    /// way (--accumulate 2: the same two halves, summed) every tensor agrees to 1e-6; against one
    /// process on the whole batch the sums run in another order, and the weights as a whole agree
    /// to 1e-5. (Element by element that comparison would mean nothing for the few elements whose
    /// gradient is zero in exact arithmetic, such as attention key biases: AdamW turns their
    /// rounding noise, whatever its order, into steps of ±lr.)
    func testTwoRanksTakeTheSingleProcessStep() throws {
        let two = directory + "/two", halves = directory + "/halves", whole = directory + "/whole", twoAccumulated = directory + "/two-acc"
        let r = try launch(ranks: 2, trainArguments(two))
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("data-parallel: 2 ranks"), r.err)
        XCTAssertEqual(r.err.components(separatedBy: "training svae:").count, 2, "only rank 0 prints: \(r.err)")
        XCTAssertEqual(try CommandRunner.run(trainArguments(halves, extra: ["--accumulate", "2"])).status, 0)
        XCTAssertEqual(try CommandRunner.run(trainArguments(whole)).status, 0)
        let accumulated = try launch(ranks: 2, trainArguments(twoAccumulated, extra: ["--accumulate", "2"]))
        XCTAssertEqual(accumulated.status, 0, accumulated.err)

        let w2 = try weights(two + "/final.safetensors")
        XCTAssertLessThanOrEqual(largestTensorDifference(try weights(halves + "/final.safetensors"), w2), 1e-6)
        XCTAssertLessThanOrEqual(relativeDistance(try weights(whole + "/final.safetensors"), w2), 1e-5)
        XCTAssertLessThanOrEqual(relativeDistance(try weights(whole + "/final.safetensors"), try weights(twoAccumulated + "/final.safetensors")), 1e-5)
        XCTAssertGreaterThan(relativeDistance(try weights(whole + "/final.safetensors"), try weights(whole + "/checkpoints/iter_0000002.safetensors")), 1e-4,
                             "the weights moved between iterations 2 and 4 ten times more than the tolerance (the comparison can fail)")

        // The same losses and eval figures, logged once (by rank 0).
        func figures(_ work: String, _ key: String) throws -> [Double] {
            try String(contentsOfFile: work + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
                .compactMap { try CommandRunner.json(String($0))[key] as? Double }
        }
        for key in ["loss", "eval_ppl"] {
            let a = try figures(whole, key), b = try figures(two, key)
            XCTAssertEqual(a.count, b.count, key)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-5 * abs(x), key) }
        }
    }

    /// A two-rank run stopped at iteration 2 and resumed equals the uninterrupted one, bit for bit.
    func testResumedTwoRankRunContinuesExactly() throws {
        let whole = directory + "/whole", split = directory + "/split"
        XCTAssertEqual(try launch(ranks: 2, trainArguments(whole)).status, 0)
        XCTAssertEqual(try launch(ranks: 2, trainArguments(split, iters: 2)).status, 0)
        let resumed = try launch(ranks: 2, trainArguments(split, extra: ["--resume"]))
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertTrue(resumed.err.contains("resumed from iteration 2"), resumed.err)
        let a = try Data(contentsOf: URL(fileURLWithPath: whole + "/checkpoints/iter_0000004.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: split + "/checkpoints/iter_0000004.safetensors"))
        XCTAssertEqual(a, b)
    }

    #if os(Linux)
    /// kill -9 of one rank ends the whole job with a message (no rank waits forever in a
    /// collective); the newest checkpoint loads and two ranks resume from it.
    func testADeadRankEndsTheJob() throws {
        let work = directory + "/killed"
        let p = Process()
        p.executableURL = try mpirun()
        p.arguments = ["-np", "2", "--oversubscribe"] + (getuid() == 0 ? ["--allow-run-as-root"] : []) + [CommandRunner.binary.path]
            + trainArguments(work, iters: 2000, extra: ["--set", "save_checkpoint_iters=1", "--set", "val_iters=100000"])
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        func checkpoints() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: work + "/checkpoints")) ?? []).filter { $0.hasSuffix(".state.safetensors") }.sorted()
        }
        while Date() < deadline, checkpoints().count < 2, p.isRunning { usleep(50_000) }
        let ranks = Self.children(of: p.processIdentifier)
        XCTAssertEqual(ranks.count, 2, "the rank processes under mpirun")
        guard let victim = ranks.last else { p.terminate(); return }
        kill(victim, SIGKILL)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertNotEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("signal 9") || text.contains("Killed") || text.contains("exited"), text)

        guard let newest = checkpoints().last else { return XCTFail("no checkpoint was written: \(text)") }
        let iteration = Int(newest.dropFirst("iter_".count).prefix(7))!
        XCTAssertNoThrow(try loadStateDict(path: work + "/checkpoints/" + newest.replacingOccurrences(of: ".state", with: "")))
        XCTAssertNoThrow(try loadStateDict(path: work + "/latest.safetensors"))
        let resumed = try launch(ranks: 2, trainArguments(work, iters: iteration + 1, extra: ["--resume"]))
        XCTAssertEqual(resumed.status, 0, resumed.err)
    }

    /// Processes whose parent is `pid` (from /proc).
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid
        }.sorted()
    }
    #endif
}
