import Foundation
import ModelIO
import NeuralNet
import TensorCore

/// What a training run needs besides the model and its data.
public struct TrainerSettings {
    public var workDirectory: String
    public var config: TrainingConfig
    /// `svae`, `sllm` or `opt`: recorded in checkpoints.
    public var kind: String
    /// Micro-batches per optimizer step; one iteration is one step over all of them.
    public var accumulate: Int = 1
    public var resume: Bool = false
    /// Dropout probability is the model's; false switches it off (tests against PyTorch).
    public var dropout: Bool = true
    /// Stop (with a checkpoint) after this iteration even if `max_iters` is further: for tests of
    /// resuming and for time-boxed runs.
    public var stopAfter: Int?
    /// Called with every logged record (also written to metrics.jsonl).
    public var onRecord: (([String: Any]) -> Void)?
    /// Extra metadata for the model files (e.g. the resolved config).
    public var modelMetadata: [String: String] = [:]
    /// The ranks of a data-parallel job: each computes its shard of every global batch and the
    /// gradients are summed across ranks before clipping, so every rank takes the same step.
    /// Only rank 0 writes checkpoints, logs and progress.
    public var communicator: Communicator = SingleProcess()

    public init(workDirectory: String, config: TrainingConfig, kind: String) {
        self.workDirectory = workDirectory
        self.config = config
        self.kind = kind
    }
}

public struct TrainSummary {
    public var iteration: Int
    public var lastLoss: Double
    public var bestEvalPPL: Double?
    public var interrupted: Bool
}

public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The training loop of the original's mmengine runner, made exact: per iteration the global
/// batch (a pure function of the iteration and seed) is split into micro-batches, each micro-batch's
/// loss is weighted by its share of the global batch's elements and back-propagated, gradients are
/// clipped, AdamW steps with the scheduled lr, the EMA updates. Evaluation runs on the EMA weights;
/// checkpoints hold them as the model and everything else for an exact resume.
///
/// Data-parallel (`settings.communicator` with several ranks): each rank takes a contiguous shard
/// of the global batch, the token counts per term are summed over ranks before the losses are
/// weighted, and the weighted gradients are summed over ranks, so the step equals the
/// single-process step on the same global batch.
public final class Trainer<O: Objective> {
    public let objective: O
    public let settings: TrainerSettings
    /// Where an iteration's samples come from: the whole global batch, or this rank's shard
    /// (samples `range` of `0..<batch_size`).
    enum BatchSource {
        case whole((Int) throws -> [String])
        case shard((Int, Range<Int>) throws -> [String])
    }
    let batchSource: BatchSource
    /// The eval split (may be empty: no evaluation).
    let evalTexts: [String]

    let parameters: [(name: String, tensor: Tensor)]
    let optimizer: AdamW
    let ema: EMA?
    let store: CheckpointStore
    let factors: [Double]
    let gradientSum: GradientAllReduce
    var communicator: Communicator { settings.communicator }
    var bestEvalPPL: Double?
    var bestIteration: Int?
    /// Seconds spent in the gradient all-reduce since the last log line.
    var allReduceSeconds = 0.0

    /// - Parameter batchTexts: the texts of the global batch of an iteration (length `batch_size`).
    public convenience init(objective: O, settings: TrainerSettings, evalTexts: [String],
                            batchTexts: @escaping (Int) throws -> [String]) throws {
        try self.init(objective: objective, settings: settings, evalTexts: evalTexts, source: .whole(batchTexts))
    }

    /// - Parameter shardTexts: the texts of samples `range` of the global batch of an iteration;
    ///   a data-parallel rank asks only for its shard.
    public convenience init(objective: O, settings: TrainerSettings, evalTexts: [String],
                            shardTexts: @escaping (Int, Range<Int>) throws -> [String]) throws {
        try self.init(objective: objective, settings: settings, evalTexts: evalTexts, source: .shard(shardTexts))
    }

    init(objective: O, settings: TrainerSettings, evalTexts: [String], source: BatchSource) throws {
        let c = settings.config
        guard c.maxIters >= 1 else { throw TrainingError("max_iters is \(c.maxIters): nothing to train; set it to 1 or more") }
        guard c.batchSize >= 1 else { throw TrainingError("batch_size is \(c.batchSize); it must be at least 1") }
        let ranks = settings.communicator.size
        guard c.batchSize >= ranks else {
            throw TrainingError("batch_size \(c.batchSize) is smaller than the \(ranks) ranks: every rank needs a sample; use fewer ranks or a larger batch_size")
        }
        guard settings.accumulate >= 1, settings.accumulate <= c.batchSize / ranks else {
            throw TrainingError("--accumulate \(settings.accumulate) must be between 1 and the samples per rank (batch_size \(c.batchSize) / \(ranks) rank(s))")
        }
        guard c.saveCheckpointIters >= 1, c.maxKeepCheckpoints >= 1, c.valIters >= 1 else {
            throw TrainingError("save_checkpoint_iters, max_keep_ckpts and val_iters must be at least 1")
        }
        self.objective = objective
        self.settings = settings
        batchSource = source
        self.evalTexts = evalTexts
        parameters = objective.layer.parameters()
        let trainable = parameters.filter { $0.tensor.requiresGrad }
        guard !trainable.isEmpty else { throw TrainingError("every parameter is frozen: nothing to train (check finetune_* in the config)") }
        gradientSum = GradientAllReduce(parameters: trainable.map(\.tensor))
        optimizer = AdamW(parameters: trainable)   // betas 0.9/0.999, eps 1e-8, weight decay 0.01: the original's
        ema = c.emaMomentum > 0 ? EMA(parameters: parameters.map(\.tensor), momentum: Float(c.emaMomentum)) : nil
        store = try CheckpointStore(workDirectory: settings.workDirectory)
        let schedule: LRSchedule = c.lrSchedule == "cosine"
            ? .warmupCosine(warmupIters: c.warmupIters, totalIters: c.maxIters)
            : .mmengine(warmupIters: c.warmupIters, cosineTMax: c.cosineAnnealingTMax)
        factors = schedule.factors(count: c.maxIters)
    }

    var signature: String { TrainState.signature(parameters) }

    /// Runs from iteration 0, or from the newest checkpoint with `resume`, to `max_iters`.
    public func run() throws -> TrainSummary {
        let c = settings.config
        var start = 0
        let existing = store.completeIterations()
        if settings.resume, let newest = existing.last {
            start = try restore(iteration: newest)
        } else if !existing.isEmpty {
            throw TrainingError("\(settings.workDirectory) already holds checkpoints (newest: iteration \(existing.last!)); pass --resume to continue that run, or choose another --work-dir")
        }
        if communicator.size > 1 {
            try communicator.requireSame(Double(start), "the iteration to start from (is the work directory shared by every rank?)")
            try communicator.requireSame(weightChecksum(), "the initial weights")
        }
        guard start < c.maxIters else {
            return TrainSummary(iteration: start, lastLoss: .nan, bestEvalPPL: bestEvalPPL, interrupted: false)
        }
        let root = communicator.isRoot
        let log = root ? try MetricsWriter(path: settings.workDirectory + "/metrics.jsonl", resumeAt: settings.resume ? start : nil) : nil
        let board = root ? try TensorBoardWriter(directory: settings.workDirectory + "/tensorboard") : nil
        func record(_ values: [String: Any]) throws {
            guard let log, let board else { return }
            try log.append(values)
            let scalars = values.compactMap { key, value -> (tag: String, value: Double)? in
                guard key != "iter", key != "time", let v = value as? Double, v.isFinite else { return nil }
                return (key, v)
            }.sorted { $0.tag < $1.tag }
            try board.add(scalars: scalars, step: values["iter"] as? Int ?? 0)
            settings.onRecord?(values)
        }
        // Batches are fetched and tokenized on a background thread while the current step computes.
        let loader = PrefetchLoader(startStep: start, depth: 2) { [unowned self] iteration in try self.prepare(iteration: iteration) }
        defer { loader.stop() }
        let progress = Progress(total: c.maxIters, every: c.logIters, startIteration: start, silent: !root)
        if start > 0 { progress.note("resumed from iteration \(start)") }

        var lastLoss = Double.nan
        var tokens = 0
        var windowSteps = 0
        var windowStart = Date()
        let peak = c.learningRate
        var iteration = start
        while iteration < c.maxIters {
            let lr = peak * factors[iteration]
            let (loss, norm, count) = try step(iteration: iteration, lr: lr, prepared: loader.next())
            iteration += 1
            lastLoss = loss
            tokens += count
            windowSteps += 1
            if iteration % c.logIters == 0 || iteration == c.maxIters {
                let seconds = Date().timeIntervalSince(windowStart)
                var values: [String: Any] = ["iter": iteration, "loss": loss, "lr": lr, "grad_norm": norm,
                                             "tokens_per_s": Double(tokens) / max(seconds, 1e-9), "time": Date().timeIntervalSince1970]
                if communicator.size > 1 {
                    values["allreduce_s"] = allReduceSeconds / Double(windowSteps)
                    values["step_s"] = seconds / Double(windowSteps)
                }
                try record(values)
                progress.update(iteration: iteration, loss: loss, lr: lr, tokensPerSecond: Double(tokens) / max(seconds, 1e-9))
                tokens = 0
                windowSteps = 0
                allReduceSeconds = 0
                windowStart = Date()
            }
            var improved = false
            if (iteration % c.valIters == 0 || iteration == c.maxIters), !evalTexts.isEmpty {
                let result = try evaluate()
                var values: [String: Any] = ["iter": iteration, "eval_ppl": result.ppl, "eval_ppl_original": result.originalPPL]
                for (name, ce) in zip(objective.termNames, result.crossEntropy) { values["eval_" + name + "_ce"] = ce }
                try record(values)
                progress.note(String(format: "iter %d: eval PPL %.3f (original definition %.3f) over %d items", iteration, result.ppl,
                                     result.originalPPL, evalTexts.count))
                if result.ppl.isFinite, bestEvalPPL.map({ result.ppl < $0 }) ?? true {
                    bestEvalPPL = result.ppl
                    bestIteration = iteration
                    improved = true
                }
            }
            let interrupted = try communicator.allReduce([Interrupt.isRequested ? 1 : 0], .max)[0] > 0
            let stopping = interrupted || settings.stopAfter.map { iteration >= $0 } ?? false
            if iteration % c.saveCheckpointIters == 0 || iteration == c.maxIters || improved || stopping {
                try checkpoint(iteration: iteration, isBest: improved)
            }
            if stopping {
                if interrupted { progress.note("interrupted: checkpoint of iteration \(iteration) written; continue with --resume") }
                return TrainSummary(iteration: iteration, lastLoss: lastLoss, bestEvalPPL: bestEvalPPL, interrupted: interrupted)
            }
        }
        if root { try store.link(store.finalPath, to: store.modelPath(iter: iteration)) }
        progress.note("done: \(iteration) iterations; model in \(store.latestPath)")
        return TrainSummary(iteration: iteration, lastLoss: lastLoss, bestEvalPPL: bestEvalPPL, interrupted: false)
    }

    /// One optimizer step over the global batch of `iteration`. Returns the loss (sum of the
    /// terms), the gradient norm before clipping, and the elements of the last term (tokens).
    public func step(iteration: Int, lr: Double) throws -> (loss: Double, norm: Double, tokens: Int) {
        try step(iteration: iteration, lr: lr, prepared: nil)
    }

    func step(iteration: Int, lr: Double, prepared: Prepared?) throws -> (loss: Double, norm: Double, tokens: Int) {
        let (loss, tokens) = try accumulateGradients(iteration: iteration, prepared: prepared)
        let started = Date()
        try gradientSum.run(communicator)
        allReduceSeconds += Date().timeIntervalSince(started)
        let norm = GradientClipping.clip(optimizer.parameters.map(\.tensor), maxNorm: settings.config.clipGradNorm)
        optimizer.step(lr: lr)
        ema?.update(from: parameters.map(\.tensor))
        for (_, p) in parameters { p.zeroGrad() }
        return (loss, norm, tokens)
    }

    /// The collated micro-batches of an iteration, each with the global indices of its samples.
    struct Prepared {
        let micros: [(range: Range<Int>, micro: O.Micro)]
    }

    /// Fetches and collates this rank's shard of the global batch of `iteration` (on the prefetch
    /// thread while training). Ranges are global sample indices (they seed the dropout masks).
    func prepare(iteration: Int) throws -> Prepared {
        let shard: Range<Int>, texts: [String]
        switch batchSource {
        case .whole(let batch):
            let all = try batch(iteration)
            shard = communicator.shard(all.count)
            texts = Array(all[shard])
        case .shard(let part):
            shard = communicator.shard(settings.config.batchSize)
            texts = try part(iteration, shard)
            guard texts.count == shard.count else {
                throw TrainingError("the data gave \(texts.count) samples for \(shard.count) places of the batch at iteration \(iteration)")
            }
        }
        return Prepared(micros: try Self.split(texts.count, into: settings.accumulate).map { range in
            (range.lowerBound + shard.lowerBound..<range.upperBound + shard.lowerBound, try objective.collate(Array(texts[range])))
        })
    }

    /// Forward and backward over the micro-batches of `iteration`, each weighted by its share of
    /// the global batch's elements per term (summed over ranks), so the gradients are those of one
    /// big batch. Returns the global batch's loss and elements of the last term.
    func accumulateGradients(iteration: Int, prepared: Prepared? = nil) throws -> (loss: Double, tokens: Int) {
        let micros = try (prepared ?? prepare(iteration: iteration)).micros
        var localTotals = [Double](repeating: 0, count: objective.termNames.count)
        let counts = micros.map { objective.counts($0.micro) }
        for c in counts { for (i, n) in c.enumerated() { localTotals[i] += Double(n) } }
        let totals = try communicator.allReduce(localTotals, .sum).map { Int($0) }
        var loss = 0.0
        for ((range, micro), count) in zip(micros, counts) {
            let seeds = settings.dropout
                ? range.map { DropoutContext.sampleSeed(runSeed: UInt64(settings.config.seed), step: iteration, index: $0) } : nil
            let terms = try objective.terms(micro, sampleSeeds: seeds)
            var total: Tensor?
            for (i, term) in terms.enumerated() where totals[i] > 0 && count[i] > 0 {
                let weighted = term.mean * (Float(count[i]) / Float(totals[i]))
                total = try total.map { try $0 + weighted } ?? weighted
                loss += Double(try term.mean.item()) * Double(count[i]) / Double(totals[i])
            }
            if let total, total.requiresGrad { try total.backward() }
        }
        loss = try communicator.allReduce([loss], .sum)[0]
        return (loss, totals.last ?? 0)
    }

    /// `count` samples in `parts` contiguous ranges, sizes differing by at most one.
    static func split(_ count: Int, into parts: Int) throws -> [Range<Int>] {
        let n = min(parts, count)
        guard n >= 1 else { throw TrainingError("an empty batch: the data gave no samples") }
        return (0..<n).map { i in (i * count / n)..<((i + 1) * count / n) }
    }

    /// Perplexity on the eval split with the EMA weights swapped in.
    public func evaluate() throws -> PerplexityResult {
        try withEMAWeights {
            try Perplexity.evaluate(objective, texts: evalTexts, batchSize: settings.config.batchSize, communicator: communicator)
        }
    }

    func withEMAWeights<R>(_ body: () throws -> R) rethrows -> R {
        guard let ema else { return try body() }
        let saved = parameters.map { $0.tensor.copy() }
        for ((_, p), avg) in zip(parameters, ema.averages) { p.data.update(from: avg.data, count: p.count) }
        defer { for ((_, p), s) in zip(parameters, saved) { p.data.update(from: s.data, count: p.count) } }
        return try body()
    }

    /// A figure that differs when the ranks' weights differ (checked once at start).
    func weightChecksum() -> Double {
        var total = 0.0
        for (k, (_, p)) in parameters.enumerated() {
            var sum = 0.0
            for j in 0..<p.count { sum += Double(p.data[j]) * Double(1 + j % 7) }
            total += sum * Double(k + 1)
        }
        return total
    }

    /// Model file (EMA weights), then the state file; then links and pruning. Rank 0 only: the
    /// ranks hold the same weights.
    func checkpoint(iteration: Int, isBest: Bool) throws {
        guard communicator.isRoot else { return }
        let modelTensors = try zip(parameters, ema?.averages ?? parameters.map(\.tensor)).map { named, t in
            try TrainState.tensorData(named.name, t)
        }
        var meta = settings.modelMetadata
        meta["format"] = "swift-sentencevae model"
        meta["kind"] = settings.kind
        meta["iter"] = String(iteration)
        meta["weights"] = ema == nil ? "raw" : "ema"
        try SafetensorsWriter.write(modelTensors, metadata: meta, to: store.modelPath(iter: iteration))
        let state = TrainState(iteration: iteration, seed: settings.config.seed, kind: settings.kind, signature: signature,
                               adamSteps: optimizer.steps, emaUpdates: ema?.updates ?? 0,
                               bestEvalPPL: bestEvalPPL, bestIteration: bestIteration)
        try state.write(to: store.statePath(iter: iteration), parameters: parameters, optimizer: optimizer)
        try store.link(store.latestPath, to: store.modelPath(iter: iteration))
        if isBest { try store.link(store.bestPath, to: store.modelPath(iter: iteration)) }
        store.prune(keep: settings.config.maxKeepCheckpoints)
    }

    /// Loads the checkpoint of `iteration`; returns the iteration to continue from.
    func restore(iteration: Int) throws -> Int {
        let state = try TrainState.read(from: store.statePath(iter: iteration), parameters: parameters, optimizer: optimizer)
        guard state.kind == settings.kind else {
            throw TrainingError("\(settings.workDirectory) holds a \(state.kind) run, not \(settings.kind); use another --work-dir")
        }
        if let ema {
            let file = try SafetensorsFile(path: store.modelPath(iter: iteration))
            let averages = try parameters.map { name, p -> Tensor in
                let t = Tensor.zeros(p.shape)
                try file.tensors.tensor(name).copyFloats(into: UnsafeMutableBufferPointer(start: t.data, count: t.count))
                return t
            }
            try ema.restore(averages: averages, updates: state.emaUpdates)
        }
        bestEvalPPL = state.bestEvalPPL
        bestIteration = state.bestIteration
        return state.iteration
    }
}
