import Foundation
import ModelIO
import NeuralNet
import SentenceModels
import TensorCore
import XCTest
@testable import Training

/// A tiny SVAE trained on synthetic "sentences" (space-separated token ids).
final class TrainerTests: XCTestCase {
    static let config = SentenceVAEConfiguration(hiddenSize: 16, vocabularySize: 40, attentionHeads: 2, layers: 1,
                                                 maxSequenceLength: 16, dropout: 0.1)

    static func objective(seed: UInt64 = 3) throws -> SVAEObjective {
        let model = try SentenceVAE(config: config, seed: seed)
        return SVAEObjective(model: model) { texts in
            try TokenBatch(sequences: texts.map { [2] + $0.split(separator: " ").map { Int($0)! } }, padId: 1)
        }
    }

    /// Deterministic synthetic data: sample k of the stream.
    static func text(_ k: Int) -> String {
        let length = 2 + (k * 7) % 9
        return (0..<length).map { String(4 + (k * 13 + $0 * 5) % 36) }.joined(separator: " ")
    }

    static func batch(_ iteration: Int, size: Int) -> [String] { (0..<size).map { text(iteration * size + $0) } }

    func workDirectory() throws -> String {
        let d = NSTemporaryDirectory() + "trainer-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    func settings(_ dir: String, iters: Int = 6, batch: Int = 16, dropout: Bool = false, ema: Double = 0.3) -> TrainerSettings {
        var c = TrainingConfig(batchSize: batch, baseLR: 1e-3, saveCheckpointIters: 2, maxIters: iters, warmupIters: 2, valIters: 3,
                               cosineAnnealingTMax: 10, maxKeepCheckpoints: 2)
        c.emaMomentum = ema
        c.logIters = 1
        var s = TrainerSettings(workDirectory: dir, config: c, kind: "svae")
        s.dropout = dropout
        return s
    }

    func weights(_ o: SVAEObjective) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: o.model.parameters().map { ($0.name, $0.tensor.values) })
    }

    /// The gradients of a batch of 16 equal those of 4 accumulated micro-batches of 4
    /// (token-weighted: the sentences have different lengths), and so does the loss.
    func testAccumulationEqualsOneBigBatch() throws {
        var grads: [[String: [Float]]] = [], losses: [Double] = []
        for parts in [1, 4] {
            let o = try Self.objective()
            var s = settings(try workDirectory(), iters: 1)
            s.accumulate = parts
            let (loss, _) = try Trainer(objective: o, settings: s, evalTexts: [], batchTexts: { Self.batch($0, size: 16) })
                .accumulateGradients(iteration: 0)
            losses.append(loss)
            grads.append(Dictionary(uniqueKeysWithValues: o.model.parameters().map { ($0.name, $0.tensor.grad?.values ?? []) }))
        }
        XCTAssertEqual(losses[1], losses[0], accuracy: 1e-5 * losses[0])
        for (name, g1) in grads[0] {
            let g4 = grads[1][name]!
            XCTAssertEqual(g1.count, g4.count, name)
            let scale = max(g1.map(abs).max() ?? 0, 1e-3)
            for (x, y) in zip(g1, g4) { XCTAssertEqual(x, y, accuracy: 1e-5 * scale, name) }
        }
        // Not a vacuous check: the unweighted mean of micro-batch means differs.
        let o = try Self.objective()
        let means = try (0..<4).map { part -> Double in
            try Double(o.terms(o.collate(Array(Self.batch(0, size: 16)[(part * 4)..<(part * 4 + 4)])), sampleSeeds: nil)[0].mean.item())
        }
        XCTAssertGreaterThan(abs(means.reduce(0, +) / 4 - losses[0]), 1e-4)
    }

    /// Dropout masks depend on the sample, not on how the batch is split: the loss and the
    /// gradient norm of one step are the same whole or accumulated. (Weights after Adam are not
    /// compared: parameters whose true gradient is zero, like attention key biases, get rounding
    /// noise that Adam normalises to full-size steps.)
    func testDropoutMasksDoNotDependOnTheSplit() throws {
        var results: [(Double, Double)] = []
        for parts in [1, 2, 4, 16] {   // 16: micro-batches of one sample
            var s = settings(try workDirectory(), iters: 1, dropout: true)
            s.accumulate = parts
            let trainer = try Trainer(objective: try Self.objective(), settings: s, evalTexts: [], batchTexts: { Self.batch($0, size: 16) })
            let (loss, norm, _) = try trainer.step(iteration: 5, lr: 1e-3)
            results.append((loss, norm))
        }
        let noDropout = try Trainer(objective: try Self.objective(), settings: settings(try workDirectory(), iters: 1), evalTexts: [],
                                    batchTexts: { Self.batch($0, size: 16) }).step(iteration: 5, lr: 1e-3)
        XCTAssertNotEqual(results[0].0, noDropout.loss, accuracy: 1e-4, "dropout had no effect")
        for (loss, norm) in results.dropFirst() {
            XCTAssertEqual(loss, results[0].0, accuracy: 1e-5 * results[0].0)
            XCTAssertEqual(norm, results[0].1, accuracy: 1e-5 * results[0].1)
        }
    }

    /// N iterations in one run equal N/2, a stop, --resume, N/2 more: identical weights, EMA and
    /// checkpoint files.
    func testResumeIsBitExact() throws {
        let whole = try Self.objective(), split = try Self.objective()
        let dirWhole = try workDirectory(), dirSplit = try workDirectory()
        let evalTexts = (1000..<1010).map(Self.text)
        _ = try Trainer(objective: whole, settings: settings(dirWhole, dropout: true), evalTexts: evalTexts,
                        batchTexts: { Self.batch($0, size: 16) }).run()
        var first = settings(dirSplit, dropout: true)
        first.stopAfter = 3
        let stopped = try Trainer(objective: split, settings: first, evalTexts: evalTexts, batchTexts: { Self.batch($0, size: 16) }).run()
        XCTAssertEqual(stopped.iteration, 3)
        // A fresh process: new model object with different random weights, everything from disk.
        let resumed = try Self.objective(seed: 99)
        var second = settings(dirSplit, dropout: true)
        second.resume = true
        let summary = try Trainer(objective: resumed, settings: second, evalTexts: evalTexts, batchTexts: { Self.batch($0, size: 16) }).run()
        XCTAssertEqual(summary.iteration, 6)
        XCTAssertEqual(weights(whole), weights(resumed))
        let a = try SafetensorsFile(path: dirWhole + "/latest.safetensors").tensors
        let b = try SafetensorsFile(path: dirSplit + "/latest.safetensors").tensors
        XCTAssertEqual(a.names, b.names)
        for n in a.names { XCTAssertEqual(try a.tensor(n).floats(), try b.tensor(n).floats(), n) }
        // The metrics log of the resumed run has each iteration once.
        let lines = try String(contentsOfFile: dirSplit + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let iters = lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["loss"] != nil ? $0 : nil }
        XCTAssertEqual(iters.count, 6)
    }

    func testCheckpointsAreKeptPrunedAndLinked() throws {
        let dir = try workDirectory()
        let o = try Self.objective()
        _ = try Trainer(objective: o, settings: settings(dir), evalTexts: (1000..<1004).map(Self.text), batchTexts: { Self.batch($0, size: 4) }).run()
        let store = try CheckpointStore(workDirectory: dir)
        XCTAssertEqual(store.completeIterations(), [4, 6])
        for f in ["latest", "best", "final"] { XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir)/\(f).safetensors"), f) }
        // The model file loads into a fresh SVAE strictly.
        let fresh = try withoutRandomInitialization { try SentenceVAE(config: Self.config) }
        try fresh.load(stateDict: loadStateDict(path: dir + "/latest.safetensors"))
        // A second run in the same directory without --resume is refused.
        XCTAssertThrowsError(try Trainer(objective: o, settings: settings(dir), evalTexts: [], batchTexts: { Self.batch($0, size: 4) }).run()) {
            XCTAssertTrue("\($0)".contains("--resume"), "\($0)")
        }
    }

    func testFrozenParametersGetNoGradientOrState() throws {
        let o = try Self.objective()
        o.model.encoder.setTrainable(false)
        let before = o.model.encoder.parameters().map(\.tensor.values)
        let trainer = try Trainer(objective: o, settings: settings(try workDirectory(), iters: 2), evalTexts: [],
                                  batchTexts: { Self.batch($0, size: 4) })
        XCTAssertEqual(trainer.optimizer.parameters.count, o.model.decoder.parameters().count)
        _ = try trainer.run()
        XCTAssertEqual(o.model.encoder.parameters().map(\.tensor.values), before)
        XCTAssertTrue(o.model.encoder.parameters().allSatisfy { $0.tensor.grad == nil })
    }

    func testBadSettingsAreRefused() throws {
        let o = try Self.objective()
        var s = settings(try workDirectory(), iters: 0)
        XCTAssertThrowsError(try Trainer(objective: o, settings: s, evalTexts: [], batchTexts: { Self.batch($0, size: 4) })) {
            XCTAssertTrue("\($0)".contains("max_iters"), "\($0)")
        }
        s = settings(try workDirectory())
        s.accumulate = 32
        XCTAssertThrowsError(try Trainer(objective: o, settings: s, evalTexts: [], batchTexts: { Self.batch($0, size: 4) }))
    }
}
