/// A SentenceVAE training/eval config (`Configs/SVAE/**`). Model sizes come from the reference OPT
/// model in `ref_model_dir` (hidden size, heads, vocab); the config adds depth, length and training
/// hyper-parameters. Every key the original reads is required, as in the original.
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
    public var training: TrainingConfig
    /// Keys present in the file that nothing reads (likely typos).
    public var warnings: [String] = []

    public init(_ value: ConfigValue, file: String) throws {
        let r = try ConfigReader(value, file: file)
        device = try r.string("device")
        dtype = try r.string("dtype")
        learnableAdd = try r.bool("learnable_add")
        loadRefModel = try r.bool("load_ref_model")
        refModelDir = try r.string("ref_model_dir")
        refModelDtype = try r.optionalString("ref_model_dtype")
        numHiddenLayers = try r.int("num_hidden_layers")
        finetuneEmbedding = try r.bool("finetune_embedding")
        modelPath = try r.optionalString("model_path")
        maxSeqLen = try r.int("max_seq_len")
        training = try TrainingConfig(r)
        warnings = r.unknownKeyWarnings
    }

    public init(path: String) throws {
        try self.init(YAMLConfig.load(path: path), file: path)
    }
}

/// The hyper-parameters both trainers share. `lr = batch_size × base_lr`.
public struct TrainingConfig: Equatable, Sendable {
    public var batchSize: Int
    public var baseLR: Double
    public var resumeTrain: Bool
    public var dataloaderNumWorkers: Int
    public var dataloaderPrefetchFactor: Int?
    public var saveCheckpointIters: Int
    public var maxIters: Int
    public var warmupIters: Int
    public var valIters: Int
    public var cosineAnnealingTMax: Int
    public var maxKeepCheckpoints: Int

    init(_ r: ConfigReader) throws {
        batchSize = try r.int("batch_size")
        baseLR = try r.double("base_lr")
        resumeTrain = try r.bool("resume_train")
        dataloaderNumWorkers = try r.int("dataloader_num_workers")
        dataloaderPrefetchFactor = try r.optionalInt("dataloader_prefetch_factor")
        saveCheckpointIters = try r.int("save_checkpoint_iters")
        maxIters = try r.int("max_iters")
        warmupIters = try r.int("warmup_iters")
        valIters = try r.int("val_iters")
        cosineAnnealingTMax = try r.int("cosineannealinglr_tmax")
        maxKeepCheckpoints = try r.int("max_keep_ckpts")
    }

    public var learningRate: Double { Double(batchSize) * baseLR }
}
