/// A token-level OPT training config (`Configs/OPT/**`): the model (`ref_model_dir`: an HF OPT
/// directory to continue training, or a bare `config.json` to train from scratch), where the
/// tokenizer is (`tokenizer_dir`, default `ref_model_dir` when it is a directory), the window
/// length (`max_length`), and the shared training keys.
public struct OPTTrainConfig: Equatable, Sendable, TrainableConfig {
    public var device: String
    public var refModelDir: String
    public var tokenizerDir: String?
    public var maxLength: Int
    public var training: TrainingConfig?
    public var trainingProblems: [String] = []
    public var warnings: [String] = []

    public init(_ value: ConfigValue, file: String) throws {
        let r = try ConfigReader(value, file: file)
        device = r.has("device") ? try r.string("device") : "cpu"
        _ = r.has("dtype")
        refModelDir = try r.string("ref_model_dir")
        tokenizerDir = r.has("tokenizer_dir") ? try r.optionalString("tokenizer_dir") : nil
        maxLength = try r.int("max_length")
        (training, trainingProblems) = TrainingConfig.parse(r)
        warnings = r.unknownKeyWarnings
    }
}
