import Foundation
import ModelIO
import TensorCore

/// The model family `sentencevae demo` runs and `svae`, `sllm` and `llm` use when given no model:
/// a directory (the package's `Models/`, made by `Tools/train-default-models`) holding
///
///     opt/                 the token-level OPT baseline, an HF directory; its config.json and
///                          tokenizer also give the SVAE and the SLLM their sizes and tokenizer
///     svae.yaml            svae.safetensors     the SentenceVAE
///     sllm.yaml            sllm.safetensors     the SLLM; with its own svae.* tensors when its
///                                               SVAE trained with it (svae.model_path: null, as
///                                               shipped), else sllm.yaml's svae.model_path names
///                                               the frozen SVAE's file in the family
///
/// It is found without configuration from a clone: `swift run` and `.build/*/sentencevae` walk up
/// from the executable to the package root. Files are loaded in the weight format they are stored
/// in (their safetensors metadata), so compact files are read in place.
public struct DefaultModels: Sendable {
    /// Points at a family directory, overriding the search.
    public static let environmentKey = "SENTENCEVAE_MODELS"
    /// The directory name searched for above the executable.
    public static let directoryName = "Models"
    /// What a family directory must hold.
    public static let files = ["opt/config.json", "opt/model.safetensors", "svae.yaml", "svae.safetensors", "sllm.yaml", "sllm.safetensors"]

    public let directory: String

    public var optDirectory: String { directory + "/opt" }
    public var svaeConfigFile: String { directory + "/svae.yaml" }
    public var svaeCheckpoint: String { directory + "/svae.safetensors" }
    public var sllmConfigFile: String { directory + "/sllm.yaml" }
    public var sllmCheckpoint: String { directory + "/sllm.safetensors" }

    /// A family at `directory`, checked to hold every file.
    public init(directory: String) throws {
        self.directory = URL(fileURLWithPath: directory).standardizedFileURL.path
        let missing = Self.files.filter { !FileManager.default.fileExists(atPath: self.directory + "/" + $0) }
        guard missing.isEmpty else {
            throw ModelFactoryError("\(self.directory) is not a complete default model family: it lacks \(missing.joined(separator: ", ")). "
                + "Make one with Tools/train-default-models (or --smoke for a quick untrained one)")
        }
        if let file = try sllmSVAECheckpoint(), !FileManager.default.fileExists(atPath: file) {
            throw ModelFactoryError("\(self.directory) is not a complete default model family: sllm.yaml's svae.model_path names "
                + "\(file), which is not there (the SVAE the SLLM was trained with)")
        }
    }

    /// Finds the family: `explicit` (a `--models` option) first, then `$SENTENCEVAE_MODELS`, then
    /// a `Models/` directory holding family files in the executable's directory or any above it.
    public static func locate(explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
                              executable: String? = Bundle.main.executablePath) throws -> DefaultModels {
        if let explicit { return try DefaultModels(directory: explicit) }
        if let fromEnvironment = environment[environmentKey], !fromEnvironment.isEmpty {
            do { return try DefaultModels(directory: fromEnvironment) } catch {
                throw ModelFactoryError("\(environmentKey)=\(fromEnvironment): \(error)")
            }
        }
        var searched: [String] = []
        if let executable {
            var dir = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
            while true {
                let candidate = dir.appendingPathComponent(directoryName).path
                searched.append(candidate)
                // A Models/ with none of the family's files is someone else's folder: keep walking.
                if files.contains(where: { FileManager.default.fileExists(atPath: candidate + "/" + $0) }) {
                    return try DefaultModels(directory: candidate)
                }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        throw ModelFactoryError("no default models: \(environmentKey) is not set and no \(directoryName)/ with them is above the executable "
            + "(looked in \(searched.first ?? "nothing")\(searched.count > 1 ? " … \(searched.last!)" : "")). Train them with "
            + "Tools/train-default-models, point \(environmentKey) or --models at a family, or name a model: "
            + "-c/--config and --checkpoint (svae, sllm), --model (llm)")
    }

    // MARK: Configs with their paths inside the family

    /// svae.yaml with `ref_model_dir` made absolute (so the working directory cannot shadow it).
    public func svaeConfig() throws -> ConfigValue {
        try config(svaeConfigFile, [("ref_model_dir", .string(optDirectory))])
    }

    /// The SVAE file the SLLM was trained with: sllm.yaml's `svae.model_path`, a name inside the
    /// family; nil when it is null (an SLLM file that holds its own SVAE).
    public func sllmSVAECheckpoint() throws -> String? { try svaeFile(of: try load(sllmConfigFile)) }

    private func svaeFile(of sllm: ConfigValue) throws -> String? {
        switch sllm["svae"]?["model_path"] {
        case let .string(name)?: return name.hasPrefix("/") ? name : directory + "/" + name
        case nil, .null?: return nil
        case .some:
            throw ModelFactoryError("\(sllmConfigFile): svae.model_path must be null or a file name inside the family (a string)")
        }
    }

    /// sllm.yaml with its three paths made absolute.
    public func sllmConfig() throws -> ConfigValue {
        let raw = try load(sllmConfigFile)
        var svae: [(String, ConfigValue)] = [("ref_model_dir", .string(optDirectory))]
        if let file = try svaeFile(of: raw) { svae.append(("model_path", .string(file))) }
        return ConfigValue.merged(raw, .map([("svae", .map(svae)), ("llm", .map([("ref_model_dir", .string(optDirectory))]))]))
    }

    private func config(_ file: String, _ paths: [(String, ConfigValue)]) throws -> ConfigValue {
        ConfigValue.merged(try load(file), .map(paths))
    }

    private func load(_ file: String) throws -> ConfigValue {
        do { return try YAMLConfig.load(path: file) } catch { throw ModelFactoryError("\(error)") }
    }

    // MARK: Loading

    /// The weight format a checkpoint holds (`sentencevae convert` records it), f32 otherwise.
    public static func storedFormat(_ path: String) -> WeightFormat {
        guard let file = try? SafetensorsFile(path: path), let raw = file.metadata[StoredMatrices.metadataKey] else { return .f32 }
        return WeightFormat(rawValue: raw) ?? .f32
    }

    /// The SentenceVAE, in its stored format unless `storage` says otherwise.
    public func svae(storage: WeightFormat? = nil) throws -> ModelFactory.SVAE {
        let cfg: SVAEConfig
        do { cfg = try SVAEConfig(try svaeConfig(), file: svaeConfigFile) } catch { throw ModelFactoryError("\(error)") }
        return try ModelFactory.svae(cfg, configFile: svaeConfigFile, weights: .checkpoint(svaeCheckpoint),
                                     storage: storage ?? Self.storedFormat(svaeCheckpoint))
    }

    /// The sentence-level LLM (its SVAE from the file sllm.yaml names), in its stored format unless `storage` says otherwise.
    public func sllm(storage: WeightFormat? = nil) throws -> (model: ModelFactory.SLLM, config: SLLMConfig) {
        let cfg: SLLMConfig
        do { cfg = try SLLMConfig(try sllmConfig(), file: sllmConfigFile) } catch { throw ModelFactoryError("\(error)") }
        let loaded = try ModelFactory.sllm(cfg, configFile: sllmConfigFile, weights: .checkpoint(sllmCheckpoint),
                                           storage: storage ?? Self.storedFormat(sllmCheckpoint))
        return (loaded, cfg)
    }

    /// The OPT baseline, in its stored format unless `storage` says otherwise.
    public func opt(storage: WeightFormat? = nil) throws -> ModelFactory.OPT {
        try ModelFactory.opt(path: optDirectory, weights: .checkpoint(optDirectory),
                             storage: storage ?? Self.storedFormat(optDirectory + "/model.safetensors"))
    }
}
