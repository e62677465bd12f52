import ArgumentParser
import Foundation
import ModelIO
import NeuralNet
import SentenceModels
import TensorCore
import Training

/// `sentencevae bench train svae|opt`: training speed of the SentenceVAE at the SVAE-768-H1 shape,
/// or of OPT at the 125m shape, on the synthetic workloads `Tools/reference/bench_torch_train.py`
/// and `bench_torch_train_opt.py` define, optionally interleaved round by round with that PyTorch
/// script so both sides of the ratio come from the same minutes.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Measure SentenceVAE or OPT training speed (tokens/s), optionally against PyTorch in interleaved rounds.",
        discussion: """
            One step = forward, focal loss, backward, clipping at norm 1.0, AdamW (lr 1e-4), dropout \
            0.1, random weights, fp32 — what the trainer does, minus data loading and EMA. Batch of \
            step s: sample i has 8 + (7i + 3s) % 17 tokens, token t is 2 if t = 0 else \
            4 + (1009i + 37t + 11s) % (vocab − 4) (the same batches as the PyTorch script). Step 0 \
            is a warm-up; round r times steps 1 + r·steps … (r+1)·steps. real tokens/s counts \
            the tokens the loss averages over; padded tokens/s what the kernels process.

            opt: OPT (pre-LN, FFN 4·hidden, tied head, dropout 0.1) at the 125m shape by default \
            (--hidden 768 --heads 12 --layers 12), batch 4 of 64–128-token rows: sample i of step s \
            has 64 + (7i + 3s) % 65 tokens, same token formula; loss = mean cross-entropy of every \
            real next token.

            --torch 'PYTHON SCRIPT [REPO]' runs the PyTorch script for one round after each of ours \
            (same threads, batch and shape), e.g. --torch '/tmp/venv/bin/python \
            Tools/reference/bench_torch_train.py /tmp/SentenceVAE' (svae) or --torch \
            '/tmp/venv/bin/python Tools/reference/bench_torch_train_opt.py' (opt).
            """
    )

    @Argument(help: "svae | opt")
    var kind: String = "svae"

    @Option(help: "Kernel threads, the calling thread included.")
    var threads: Int = 2

    @Option(help: "Timed rounds.")
    var rounds: Int = 3

    @Option(help: "Optimizer steps per round.")
    var steps: Int = 2

    @Option(help: "Samples per batch (default: 32 sentences for svae, 4 rows for opt).")
    var batch: Int?

    @Option var hidden: Int = 768
    @Option var heads: Int = 12
    @Option(help: "Layers (default: 1 for svae, 12 for opt).")
    var layers: Int?
    @Option var vocab: Int = 50272

    @Option(help: "Command prefix that runs the PyTorch reference script (see the discussion).")
    var torch: String?

    func validate() throws {
        guard kind == "svae" || kind == "opt" else { throw ValidationError("kind must be svae or opt (got '\(kind)')") }
        try checkThreads(threads)
        guard rounds >= 1, steps >= 1, (batch ?? 1) >= 1, (layers ?? 1) >= 1 else {
            throw ValidationError("rounds, steps, batch and layers must be at least 1")
        }
    }

    /// The synthetic batch of step `s` as the PyTorch script builds it (as texts of ids for the
    /// collation): rows of `base + (7i + 3s) % span` tokens.
    static func texts(step s: Int, batch: Int, vocab: Int, base: Int = 8, span: Int = 17) -> [String] {
        (0..<batch).map { i in
            let length = base + (7 * i + 3 * s) % span
            return (0..<length).map { t in String(t == 0 ? 2 : 4 + (1009 * i + 37 * t + 11 * s) % (vocab - 4)) }.joined(separator: " ")
        }
    }

    func run() throws {
        Threads.count = threads
        let (batch, layers) = (self.batch ?? (kind == "opt" ? 4 : 32), self.layers ?? (kind == "opt" ? 12 : 1))
        let (base, span) = kind == "opt" ? (64, 65) : (8, 17)
        let parse = { (texts: [String]) in try TokenBatch(sequences: texts.map { $0.split(separator: " ").map { Int($0)! } }, padId: 1) }
        let layer: Layer
        let step: (Int) throws -> Void
        let work = NSTemporaryDirectory() + "bench-train-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: work) }
        var c = TrainingConfig(batchSize: batch, baseLR: 1e-4 / Double(batch), saveCheckpointIters: 1, maxIters: 1, warmupIters: 1,
                               valIters: 1, cosineAnnealingTMax: 1, maxKeepCheckpoints: 1)
        c.emaMomentum = 0
        let texts = { (s: Int) in Self.texts(step: s, batch: batch, vocab: vocab, base: base, span: span) }
        if kind == "opt" {
            let model = try OPTModel(config: OPTConfiguration(hiddenSize: hidden, ffnDim: 4 * hidden, attentionHeads: heads, layers: layers,
                                                              vocabularySize: vocab, dropout: 0.1))
            let trainer = try Trainer(objective: OPTObjective(model: model, collate: parse),
                                      settings: TrainerSettings(workDirectory: work, config: c, kind: "opt"), evalTexts: [], batchTexts: texts)
            (layer, step) = (model, { _ = try trainer.step(iteration: $0, lr: 1e-4) })
            print("OPT hidden \(hidden), \(layers) layers, vocab \(vocab): \(model.parameterCount) parameters; batch \(batch); \(threads) thread(s)")
        } else {
            let config = SentenceVAEConfiguration(hiddenSize: hidden, vocabularySize: vocab, attentionHeads: heads, layers: layers,
                                                  maxSequenceLength: 64, dropout: 0.1)
            let model = try SentenceVAE(config: config, seed: 0)
            let trainer = try Trainer(objective: SVAEObjective(model: model, collate: parse),
                                      settings: TrainerSettings(workDirectory: work, config: c, kind: "svae"), evalTexts: [], batchTexts: texts)
            (layer, step) = (model, { _ = try trainer.step(iteration: $0, lr: 1e-4) })
            print("SentenceVAE hidden \(hidden), \(layers) layer(s), vocab \(vocab): \(model.parameterCount) parameters; batch \(batch); \(threads) thread(s)")
        }
        // Products: every 2-D weight but the embedding table, plus OPT's tied head (the table).
        let tied = kind == "opt" ? vocab * hidden : 0
        let weights = layer.parameters().filter { $0.tensor.rank == 2 && !$0.name.contains("embed_") }
        let matmulParams = Double(weights.reduce(tied) { (sum: Int, p: (name: String, tensor: Tensor)) in sum + p.tensor.count })
        print("CPU: \(CPUFeatures.current()?.summary ?? "unknown")")
        try step(0)   // warm-up
        var ours: [Double] = [], theirs: [Double] = []
        for r in 0..<rounds {
            var real = 0, padded = 0
            let start = Date()
            for s in (1 + r * steps)...((r + 1) * steps) {
                let lengths = texts(s).map { $0.split(separator: " ").count }
                real += lengths.reduce(0, +)
                padded += batch * (lengths.max() ?? 0)
                try step(s)
            }
            let seconds = Date().timeIntervalSince(start)
            let gflops = 6 * matmulParams * Double(padded) / seconds / 1e9
            ours.append(Double(real) / seconds)
            var line = String(format: "round %d  swift: %.1f real tokens/s (%.1f padded, %.2f s/step, ≈%.0f GFLOP/s in products)",
                              r, Double(real) / seconds, Double(padded) / seconds, seconds / Double(steps), gflops)
            if let torch {
                let rate = try Self.torchRound(torch, round: r, steps: steps, threads: threads, batch: batch,
                                               hidden: hidden, heads: heads, layers: layers, vocab: vocab)
                theirs.append(rate)
                line += String(format: "   pytorch: %.1f real tokens/s   ratio %.2f", rate, Double(real) / seconds / rate)
            }
            print(line)
            fflush(stdout)
        }
        var summary = String(format: "median: swift %.1f real tokens/s", median(ours))
        if !theirs.isEmpty {
            let ratios = zip(ours, theirs).map { $0 / $1 }
            summary += String(format: ", pytorch %.1f; median ratio of interleaved rounds %.2f", median(theirs), median(ratios))
        }
        print(summary)
    }

    /// One round of the PyTorch script; its first JSON line's `real_tokens_per_s`.
    static func torchRound(_ command: String, round: Int, steps: Int, threads: Int, batch: Int, hidden: Int, heads: Int,
                           layers: Int, vocab: Int) throws -> Double {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command + " --rounds 1 --steps \(steps) --threads \(threads) --batch \(batch) --hidden \(hidden) "
            + "--heads \(heads) --layers \(layers) --vocab \(vocab)"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            if let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let rate = obj["real_tokens_per_s"] as? Double {
                return rate
            }
        }
        throw CLIError("the PyTorch command printed no round (exit \(p.terminationStatus)): \(command)")
    }
}
