/// A SentenceVAE training/eval config (`Configs/SVAE/**`). Model sizes come from the reference OPT
/// model in `ref_model_dir` (hidden size, heads, vocab); the config adds depth, length and training
/// hyper-parameters. The model keys are required; the training keys only by `train`
/// (`requireTraining()`), so a config with only the model's keys (what the original's demo
/// scripts read) runs `svae`, `eval` and `bench`.
public struct SVAEConfig: Equatable, Sendable {
    public var device: String
    public var dtype: String
    /// Pool with learned weights (`la` Linear) instead of a plain sum.
    public var learnableAdd: Bool
    public var loadRefModel: Bool
    /// HF OPT directory whose config (and embeddings, if `loadRefModel`) the SVAE uses.
    public var refModelDir: String
    public var refModelDtype: String?
    public var numHiddenLayers: Int
    public var finetuneEmbedding: Bool
    public var modelPath: String?
    public var maxSeqLen: Int
    /// The training hyper-parameters, or nil when a training key is missing or malformed
    /// (`trainingProblems` says which); only `train` needs them.
    public var training: TrainingConfig?
    public var trainingProblems: [String] = []
    /// Keys present in the file that nothing reads (likely typos).
    public var warnings: [String] = []

    public init(_ value: ConfigValue, file: String) throws {
        let r = try ConfigReader(value, file: file)
        device = r.has("device") ? try r.string("device") : "cpu"
        dtype = r.has("dtype") ? try r.string("dtype") : "fp32"
        learnableAdd = try r.bool("learnable_add")
        loadRefModel = r.has("load_ref_model") ? try r.bool("load_ref_model") : false
        refModelDir = try r.string("ref_model_dir")
        refModelDtype = r.has("ref_model_dtype") ? try r.optionalString("ref_model_dtype") : nil
        numHiddenLayers = try r.int("num_hidden_layers")
        finetuneEmbedding = r.has("finetune_embedding") ? try r.bool("finetune_embedding") : true
        modelPath = r.has("model_path") ? try r.optionalString("model_path") : nil
        maxSeqLen = try r.int("max_seq_len")
        (training, trainingProblems) = TrainingConfig.parse(r)
        warnings = r.unknownKeyWarnings
    }

    public init(path: String) throws {
        try self.init(YAMLConfig.load(path: path), file: path)
    }
}

/// The hyper-parameters the trainers share. `lr = batch_size × base_lr`. The original's keys are
/// required except `resume_train` (false), `dataloader_num_workers` (0) and
/// `dataloader_prefetch_factor` (null), which this build does not need; our additions have defaults:
/// `seed` (0), `ema_momentum` (0.0002, the original's EMAHook; 0 = off), `lr_schedule`
/// (`mmengine`: the original's chained warm-up × cosine; `cosine`: warm-up then one cosine to 0 at
/// `max_iters`), `log_iters` (10), `eval_samples` (all of the eval split; at most this many items
/// are evaluated), `clip_grad_norm` (1.0).
public struct TrainingConfig: Equatable, Sendable {
    public var batchSize: Int
    public var baseLR: Double
    public var resumeTrain: Bool = false
    public var dataloaderNumWorkers: Int = 0
    public var dataloaderPrefetchFactor: Int?
    public var saveCheckpointIters: Int
    public var maxIters: Int
    public var warmupIters: Int
    public var valIters: Int
    public var cosineAnnealingTMax: Int
    public var maxKeepCheckpoints: Int
    public var seed: Int = 0
    public var emaMomentum: Double = 0.0002
    public var lrSchedule: String = "mmengine"
    public var logIters: Int = 10
    public var evalSamples: Int?
    public var clipGradNorm: Double = 1.0

    /// Reads every training key (so none is reported unknown) and collects every problem.
    static func parse(_ r: ConfigReader) -> (TrainingConfig?, [String]) {
        var problems: [String] = []
        func get<T>(_ key: String, _ read: (String) throws -> T, default value: T? = nil) -> T? {
            if value != nil, !r.has(key) { return value }
            do { return try read(key) } catch { problems.append("\(error)"); return nil }
        }
        let batch = get("batch_size", r.int), lr = get("base_lr", r.double)
        let save = get("save_checkpoint_iters", r.int), iters = get("max_iters", r.int)
        let warmup = get("warmup_iters", r.int), val = get("val_iters", r.int)
        let tmax = get("cosineannealinglr_tmax", r.int), keep = get("max_keep_ckpts", r.int)
        let resume = get("resume_train", r.bool, default: false)
        let workers = get("dataloader_num_workers", r.int, default: 0)
        let prefetch: Int?? = r.has("dataloader_prefetch_factor") ? get("dataloader_prefetch_factor", r.optionalInt) : .some(nil)
        let seed = get("seed", r.int, default: 0), ema = get("ema_momentum", r.double, default: 0.0002)
        let schedule = get("lr_schedule", r.string, default: "mmengine"), log = get("log_iters", r.int, default: 10)
        let evalSamples: Int?? = r.has("eval_samples") ? get("eval_samples", r.optionalInt) : .some(nil)
        let clip = get("clip_grad_norm", r.double, default: 1.0)
        if let schedule, !["mmengine", "cosine"].contains(schedule) {
            problems.append("\(r.file): \(r.fullName("lr_schedule")): expected 'mmengine' or 'cosine', found '\(schedule)'")
        }
        guard problems.isEmpty, let batch, let lr, let save, let iters, let warmup, let val, let tmax, let keep, let resume,
              let workers, let prefetch, let seed, let ema, let schedule, let log, let evalSamples, let clip else { return (nil, problems) }
        var c = TrainingConfig(batchSize: batch, baseLR: lr, saveCheckpointIters: save, maxIters: iters, warmupIters: warmup,
                               valIters: val, cosineAnnealingTMax: tmax, maxKeepCheckpoints: keep)
        c.resumeTrain = resume; c.dataloaderNumWorkers = workers; c.dataloaderPrefetchFactor = prefetch
        c.seed = seed; c.emaMomentum = ema; c.lrSchedule = schedule; c.logIters = log; c.evalSamples = evalSamples; c.clipGradNorm = clip
        return (c, [])
    }

    public init(batchSize: Int, baseLR: Double, saveCheckpointIters: Int, maxIters: Int, warmupIters: Int, valIters: Int,
                cosineAnnealingTMax: Int, maxKeepCheckpoints: Int) {
        self.batchSize = batchSize; self.baseLR = baseLR; self.saveCheckpointIters = saveCheckpointIters; self.maxIters = maxIters
        self.warmupIters = warmupIters; self.valIters = valIters; self.cosineAnnealingTMax = cosineAnnealingTMax
        self.maxKeepCheckpoints = maxKeepCheckpoints
    }

    public var learningRate: Double { Double(batchSize) * baseLR }
}

/// Configs that carry training keys.
public protocol TrainableConfig {
    var training: TrainingConfig? { get }
    var trainingProblems: [String] { get }
}

extension TrainableConfig {
    /// The training hyper-parameters, or an error listing every missing or malformed key.
    public func requireTraining() throws -> TrainingConfig {
        if let training { return training }
        throw ModelIOError.config(file: "", key: "", reason: "the config lacks what training needs:\n  " + trainingProblems.joined(separator: "\n  "))
    }
}

extension SVAEConfig: TrainableConfig {}
