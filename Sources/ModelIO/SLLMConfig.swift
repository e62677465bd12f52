/// A sentence-level LLM config (`Configs/SLLM/**`): an `svae` section (the sentence encoder/decoder),
/// an `llm` section (the OPT backbone), and training hyper-parameters.
public struct SLLMConfig: Equatable, Sendable {
    public struct SVAESection: Equatable, Sendable {
        public var learnableAdd: Bool
        public var loadRefModel: Bool
        public var refModelDir: String
        public var refModelDtype: String?
        public var finetuneEmbedding: Bool
        /// A trained SVAE checkpoint (`.pth`) to start from.
        public var modelPath: String?
        public var numHiddenLayers: Int
    }

    public struct LLMSection: Equatable, Sendable {
        public var refModelDir: String
        public var refModelDtype: String?
        /// How many OPT layers train (-1: all).
        public var finetuneLayers: Int
    }

    public var device: String
    public var dtype: String
    public var svae: SVAESection
    public var llm: LLMSection
    public var finetuneSVAE: Bool
    public var maxSentenceLen: Int
    public var maxSentenceNum: Int
    /// Nil when a training key is missing or malformed (`trainingProblems`); only `train` needs it.
    public var training: TrainingConfig?
    public var trainingProblems: [String] = []
    public var warnings: [String] = []

    public init(_ value: ConfigValue, file: String) throws {
        let r = try ConfigReader(value, file: file)
        device = r.has("device") ? try r.string("device") : "cpu"
        dtype = r.has("dtype") ? try r.string("dtype") : "fp32"
        let s = try r.section("svae")
        svae = SVAESection(learnableAdd: try s.bool("learnable_add"), loadRefModel: try s.bool("load_ref_model"),
                           refModelDir: try s.string("ref_model_dir"), refModelDtype: try s.optionalString("ref_model_dtype"),
                           finetuneEmbedding: try s.bool("finetune_embedding"), modelPath: try s.optionalString("model_path"),
                           numHiddenLayers: try s.int("num_hidden_layers"))
        let l = try r.section("llm")
        llm = LLMSection(refModelDir: try l.string("ref_model_dir"), refModelDtype: try l.optionalString("ref_model_dtype"),
                         finetuneLayers: try l.int("finetune_layers"))
        finetuneSVAE = try r.bool("finetune_svae")
        maxSentenceLen = try r.int("max_sen_len")
        maxSentenceNum = try r.int("max_sen_num")
        (training, trainingProblems) = TrainingConfig.parse(r)
        warnings = r.unknownKeyWarnings
    }

    public init(path: String) throws {
        try self.init(YAMLConfig.load(path: path), file: path)
    }
}

extension SLLMConfig: TrainableConfig {}

/// A resolved config of either kind, told apart by its `svae`/`llm` sections.
public enum ModelConfig: Equatable, Sendable {
    case svae(SVAEConfig)
    case sllm(SLLMConfig)

    public init(path: String) throws {
        let value = try YAMLConfig.load(path: path)
        if value["svae"] != nil || value["llm"] != nil { self = .sllm(try SLLMConfig(value, file: path)) } else {
            self = .svae(try SVAEConfig(value, file: path))
        }
    }

    public var warnings: [String] {
        switch self {
        case let .svae(c): return c.warnings
        case let .sllm(c): return c.warnings
        }
    }
}
