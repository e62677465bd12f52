import ArgumentParser
import Foundation
import ModelIO
import SentenceModels
import TensorCore

/// Which model `svae`, `sllm` or `llm` runs: the files named on the command line, or, when none
/// is named, the default family (`DefaultModels`: `$SENTENCEVAE_MODELS`, else `Models/` above the
/// executable).
struct ModelChoice {
    /// The config (svae, sllm) with its paths, before the command's `--set` overrides.
    var config: ConfigValue = .map([])
    /// The config file (svae, sllm) or, for llm, the OPT directory (config.json and tokenizer).
    var configFile: String
    /// The weights: a checkpoint file, or for llm an HF directory.
    var checkpoint: String
    /// The format to load in unless `--weights` says otherwise: what a default model's file holds; f32 for named files.
    var storedFormat: WeightFormat = .f32
    /// Set when the choice is the default family.
    var family: DefaultModels?

    static func svae(config: String?, checkpoint: String?) throws -> ModelChoice {
        if let config, let checkpoint { return ModelChoice(config: try load(config), configFile: config, checkpoint: checkpoint) }
        let family = try defaultFamily()
        return ModelChoice(config: try wrap { try family.svaeConfig() }, configFile: family.svaeConfigFile, checkpoint: family.svaeCheckpoint,
                           storedFormat: DefaultModels.storedFormat(family.svaeCheckpoint), family: family)
    }

    static func sllm(config: String?, checkpoint: String?) throws -> ModelChoice {
        if let config, let checkpoint { return ModelChoice(config: try load(config), configFile: config, checkpoint: checkpoint) }
        let family = try defaultFamily()
        return ModelChoice(config: try wrap { try family.sllmConfig() }, configFile: family.sllmConfigFile, checkpoint: family.sllmCheckpoint,
                           storedFormat: DefaultModels.storedFormat(family.sllmCheckpoint), family: family)
    }

    /// llm: `--model DIR` (weights from `--checkpoint`, else the directory), or the family's `opt/`.
    static func opt(model: String?, checkpoint: String?) throws -> ModelChoice {
        if let model { return ModelChoice(configFile: model, checkpoint: checkpoint ?? model) }
        let family = try defaultFamily()
        let weights = checkpoint ?? family.optDirectory
        return ModelChoice(configFile: family.optDirectory, checkpoint: weights,
                           storedFormat: checkpoint == nil ? DefaultModels.storedFormat(family.optDirectory + "/model.safetensors") : .f32,
                           family: family)
    }

    /// svae: the config with the command's `--set` overrides, and the model built from it by the
    /// library's factory in `storage` (else the format the file holds).
    func svae(overrides: [String], storage: WeightOptions) throws -> (config: SVAEConfig, loaded: ModelFactory.SVAE) {
        let cfg = try Self.wrap { try SVAEConfig(ConfigOverrides.apply(overrides, to: config), file: configFile) }
        ModelAssets.report(warnings: cfg.warnings)
        let loaded = try Self.wrap {
            try ModelFactory.svae(cfg, configFile: configFile, weights: .checkpoint(checkpoint), storage: storage.format(or: storedFormat))
        }
        storage.report(loaded.weights)
        return (cfg, loaded)
    }

    /// sllm: the same for a sentence-level LLM.
    func sllm(overrides: [String], storage: WeightOptions) throws -> (config: SLLMConfig, loaded: ModelFactory.SLLM) {
        let cfg = try Self.wrap { try SLLMConfig(ConfigOverrides.apply(overrides, to: config), file: configFile) }
        ModelAssets.report(warnings: cfg.warnings)
        let loaded = try Self.wrap {
            try ModelFactory.sllm(cfg, configFile: configFile, weights: .checkpoint(checkpoint), storage: storage.format(or: storedFormat))
        }
        storage.report(loaded.weights)
        return (cfg, loaded)
    }

    /// Both files named, or neither (the default models).
    static func validate(config: String?, checkpoint: String?) throws {
        if (config == nil) != (checkpoint == nil) {
            throw ValidationError("give both -c/--config and --checkpoint, or neither to use the default models")
        }
    }

    static func defaultFamily(explicit: String? = nil) throws -> DefaultModels {
        try wrap { try DefaultModels.locate(explicit: explicit) }
    }

    private static func load(_ path: String) throws -> ConfigValue { try wrap { try YAMLConfig.load(path: path) } }

    private static func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
    }
}
