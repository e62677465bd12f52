import Foundation
import ModelIO
import NeuralNet
import TensorCore

/// How a model's parameters are filled.
public enum ModelWeights: Sendable {
    /// From a checkpoint, strictly (every tensor present with its shape); no random draw first.
    case checkpoint(String)
    /// Random (PyTorch's initialisation, seeded), then what a training config asks for at the
    /// start of training: reference embeddings (`load_ref_model`), a trained SVAE
    /// (`svae.model_path`), the OPT layers of `llm.ref_model_dir`, and frozen parts
    /// (`finetune_embedding`, `finetune_svae`, `llm.finetune_layers`).
    case training(seed: UInt64)
    /// Random only (benchmarks).
    case random(seed: UInt64)
}

/// A problem building a model: names the file or key and says what to do.
public struct ModelFactoryError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The one place that turns a config (and a checkpoint) into a model: the commands, the trainer,
/// evaluation and the benchmarks all come here.
///
/// `storage` chooses how inference keeps the big matrices (`WeightFormat`; see `StoredMatrices`
/// for which): with bf16 or q8 they live in the result's `weights`, in place in the file when it
/// was converted to that format, and the model's fp32 tensors for them stay empty (zeros), so run
/// such a model only through the generators given `weights`. Training always uses fp32.
public enum ModelFactory {
    public struct SVAE {
        public let model: SentenceVAE
        /// The matrices inference multiplies by (pass to the generators).
        public internal(set) var weights = InferenceWeights()
        /// The reference OPT directory (tokenizer, sizes).
        public let referenceDirectory: String
        public let reference: OPTConfig
        /// Notes for the user (what was loaded or frozen).
        public var notes: [String] = []
    }

    public struct SLLM {
        public let model: SentenceLLM
        public internal(set) var weights = InferenceWeights()
        public let svaeDirectory: String
        public let llmDirectory: String
        public var notes: [String] = []
    }

    public struct OPT {
        public let model: OPTModel
        public internal(set) var weights = InferenceWeights()
        public let config: OPTConfig
        /// The directory (tokenizer) when the model came from one.
        public let directory: String?
        public var notes: [String] = []
    }

    /// `ref_model_dir` as the original uses it (relative to the working directory); when that does
    /// not exist, relative to the config file's directory (so a config and its model travel together).
    public static func resolveDirectory(_ dir: String, configFile: String) throws -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue { return dir }
        let beside = URL(fileURLWithPath: configFile).deletingLastPathComponent().appendingPathComponent(dir).path
        if FileManager.default.fileExists(atPath: beside, isDirectory: &isDirectory), isDirectory.boolValue { return beside }
        throw ModelFactoryError("ref_model_dir '\(dir)' (from \(configFile)) is not a directory, neither relative to the working directory nor to the config file; point it at an HF OPT directory with config.json and the tokenizer files")
    }

    public static func referenceConfig(_ dir: String) throws -> OPTConfig {
        do { return try OPTConfig(contentsOf: dir + "/config.json") } catch { throw ModelFactoryError("\(error)") }
    }

    /// A SentenceVAE as the original's `train_svae.py`/`demo_svae.py` build it.
    public static func svae(_ cfg: SVAEConfig, configFile: String, weights: ModelWeights, storage: WeightFormat = .f32) throws -> SVAE {
        try checkStorage(storage, for: weights)
        let dir = try resolveDirectory(cfg.refModelDir, configFile: configFile)
        let reference = try referenceConfig(dir)
        let config = SentenceVAEConfiguration(reference: reference, layers: cfg.numHiddenLayers, learnableAdd: cfg.learnableAdd,
                                              maxSequenceLength: cfg.maxSeqLen)
        let model = try build(weights) { seed in try SentenceVAE(config: config, seed: seed) }
        var out = SVAE(model: model, referenceDirectory: dir, reference: reference)
        out.weights = try inferenceWeights(model, weights, storage)
        guard case .training = weights else { return out }
        if cfg.loadRefModel { out.notes.append(try loadReferenceEmbeddings(into: [model.encoder.embedding, model.decoder.embedding], from: dir)) }
        if let path = cfg.modelPath {
            try load(model, from: try resolveFile(path, configFile: configFile))
            out.notes.append("started from the SVAE \(path)")
        }
        if !cfg.finetuneEmbedding {
            freezeEmbeddings([model.encoder.embedding, model.decoder.embedding])
            out.notes.append("token embeddings frozen (finetune_embedding: false)")
        }
        return out
    }

    /// A sentence-level LLM as the original's `train_sllm.py`/`demo_sllm.py` build it.
    public static func sllm(_ cfg: SLLMConfig, configFile: String, weights: ModelWeights, storage: WeightFormat = .f32) throws -> SLLM {
        try checkStorage(storage, for: weights)
        let svaeDir = try resolveDirectory(cfg.svae.refModelDir, configFile: configFile)
        let llmDir = try resolveDirectory(cfg.llm.refModelDir, configFile: configFile)
        let svaeReference = try referenceConfig(svaeDir)
        let llmReference = try referenceConfig(llmDir)
        let svaeConfig = SentenceVAEConfiguration(reference: svaeReference, layers: cfg.svae.numHiddenLayers, learnableAdd: cfg.svae.learnableAdd,
                                                  maxSequenceLength: cfg.maxSentenceLen, projectedEmbedding: true)
        let model: SentenceLLM
        do { model = try build(weights) { seed in try SentenceLLM(svae: svaeConfig, llm: OPTConfiguration(llmReference), seed: seed) } } catch {
            throw ModelFactoryError("\(configFile): \(error)")
        }
        var out = SLLM(model: model, svaeDirectory: svaeDir, llmDirectory: llmDir)
        if case let .checkpoint(path) = weights {
            var dict = try stateDict(path)
            if !dict.names.contains(where: { $0.hasPrefix("svae.") }) {
                dict = try withFrozenSVAE(dict, cfg, configFile: configFile, checkpoint: path)
                out.notes.append("SVAE from \(cfg.svae.modelPath ?? "") (svae.model_path; \(path) has no svae.* tensors)")
            }
            out.weights = try loadForInference(model, dict, format: storage, source: path)
        } else {
            out.weights = try inferenceWeights(model, weights, storage)
        }
        guard case .training = weights else { return out }
        let svae = model.svae
        if cfg.svae.loadRefModel {
            out.notes.append(try loadReferenceEmbeddings(into: [svae.encoder.embedding, svae.decoder.embedding], from: svaeDir))
        }
        if let path = cfg.svae.modelPath {
            try load(svae, from: try resolveFile(path, configFile: configFile))
            out.notes.append("SVAE weights from \(path)")
        }
        out.notes.append(try loadLLMLayers(into: model, from: llmDir))
        if !cfg.svae.finetuneEmbedding { freezeEmbeddings([svae.encoder.embedding, svae.decoder.embedding]) }
        if !cfg.finetuneSVAE {
            svae.setTrainable(false)
            out.notes.append("SVAE frozen (finetune_svae: false)")
        }
        let k = cfg.llm.finetuneLayers, n = model.llmLayers.count
        if k >= 0, 2 * k < n {
            for i in k..<(n - k) { model.llmLayers[i].setTrainable(false) }
            out.notes.append("OPT layers \(k)..<\(n - k) frozen (llm.finetune_layers: \(k))")
        }
        return out
    }

    /// An SLLM checkpoint saved without its SVAE (`convert --drop-prefix svae.`), completed from the
    /// SVAE file the config names: allowed only when that SVAE was frozen in training
    /// (`finetune_svae: false`), so the file holds exactly the weights the SLLM was trained with
    /// and a family ships them once.
    private static func withFrozenSVAE(_ dict: StateDict, _ cfg: SLLMConfig, configFile: String, checkpoint: String) throws -> StateDict {
        guard !cfg.finetuneSVAE, let modelPath = cfg.svae.modelPath else {
            throw ModelFactoryError("\(checkpoint) holds no svae.* tensors; an SLLM file without its SVAE loads only with a config whose "
                + "SVAE was frozen in training (finetune_svae: false) and names it in svae.model_path (\(configFile) has "
                + "finetune_svae: \(cfg.finetuneSVAE), svae.model_path: \(cfg.svae.modelPath ?? "null"))")
        }
        let svae = try stateDict(try resolveFile(modelPath, configFile: configFile))
        return StateDict(dict.all + svae.adding(prefix: "svae.").all)
    }

    /// An OPT model from an HF directory (its weights when it has any, else random for training
    /// from scratch), a bare `config.json`, or a directory plus a separate checkpoint.
    public static func opt(path: String, weights: ModelWeights, storage: WeightFormat = .f32) throws -> OPT {
        try checkStorage(storage, for: weights)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelFactoryError("\(path): no such file or directory; give an HF OPT directory or its config.json")
        }
        let directory = isDirectory.boolValue ? path : nil
        let configPath = directory.map { $0 + "/config.json" } ?? path
        let hf: OPTConfig
        do { hf = try OPTConfig(contentsOf: configPath) } catch { throw ModelFactoryError("\(error)") }
        let model = try build(weights) { seed in try OPTModel(config: OPTConfiguration(hf), seed: seed) }
        var out = OPT(model: model, config: hf, directory: directory)
        switch weights {
        case let .checkpoint(file):
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: file, isDirectory: &isDir), isDir.boolValue {
                guard let dict = try optWeights(file) else { throw ModelFactoryError("\(file): an OPT directory without weights") }
                out.weights = try loadForInference(model, dict, format: storage, source: file)
            } else {
                out.weights = try loadForInference(model, try stateDict(file), format: storage, source: file)
            }
        case let .training(seed):
            if let directory, let dict = try optWeights(directory) {
                try strictLoad(model, dict, source: directory)
                out.notes.append("continuing from the weights in \(directory)")
            } else {
                // As transformers starts a new OPTForCausalLM, not PyTorch's per-layer defaults.
                model.initializeAsTransformers(std: Float(hf.initStd), seed: seed)
                out.notes.append("training from scratch (random weights, N(0, \(hf.initStd)) as transformers' OPT)")
            }
        case .random:
            out.weights = try inferenceWeights(converting: model, to: storage)
        }
        return out
    }

    /// An OPT of the given shape (benchmarks at the real model sizes without their weights).
    public static func opt(configuration: OPTConfiguration, weights: ModelWeights, storage: WeightFormat = .f32) throws -> (model: OPTModel, weights: InferenceWeights) {
        try checkStorage(storage, for: weights)
        let model = try build(weights) { seed in try OPTModel(config: configuration, seed: seed) }
        return (model, try inferenceWeights(model, weights, storage))
    }

    /// A sentence-level LLM of the given shapes (benchmarks).
    public static func sllm(svae: SentenceVAEConfiguration, llm: OPTConfiguration, weights: ModelWeights,
                            storage: WeightFormat = .f32) throws -> (model: SentenceLLM, weights: InferenceWeights) {
        try checkStorage(storage, for: weights)
        let model = try build(weights) { seed in try SentenceLLM(svae: svae, llm: llm, seed: seed) }
        return (model, try inferenceWeights(model, weights, storage))
    }

    /// The weights of an HF OPT directory under `OPTForCausalLM` names, or nil when it has none.
    static func optWeights(_ dir: String) throws -> StateDict? {
        do {
            let directory = try HFModelDirectory(path: dir)
            return directory.weightFiles.isEmpty ? nil : try directory.optStateDict()
        } catch let error as ModelIOError {
            if case .io = error { return nil }   // no weights file: a config-only directory
            throw ModelFactoryError("\(error)")
        }
    }

    private static func build<M>(_ weights: ModelWeights, _ make: (UInt64) throws -> M) throws -> M {
        switch weights {
        case .checkpoint: return try withoutRandomInitialization { try make(0) }   // the checkpoint fills it
        case let .training(seed), let .random(seed): return try make(seed)
        }
    }

    /// Training uses fp32: a compact format is for the inference paths only.
    private static func checkStorage(_ storage: WeightFormat, for weights: ModelWeights) throws {
        if case .training = weights, storage != .f32 {
            throw ModelFactoryError("training keeps its weights in fp32; --weights \(storage.rawValue) is for inference (llm, svae, sllm, bench opt)")
        }
    }

    /// The inference weights of a just-built model: loaded with the checkpoint, converted from
    /// random weights, or (training) the fp32 tensors.
    private static func inferenceWeights(_ model: Layer, _ weights: ModelWeights, _ storage: WeightFormat) throws -> InferenceWeights {
        switch weights {
        case let .checkpoint(path): return try loadForInference(model, try stateDict(path), format: storage, source: path)
        case .random: return try inferenceWeights(converting: model, to: storage)
        case .training: return InferenceWeights()
        }
    }

    private static func stateDict(_ path: String) throws -> StateDict {
        do { return try loadStateDict(path: path) } catch { throw ModelFactoryError("\(error)") }
    }

    /// Loads an fp32 copy of every parameter (training's starting points); q8/bf16 files are widened.
    private static func load(_ layer: Layer, from path: String) throws {
        _ = try loadForInference(layer, try stateDict(path), format: .f32, source: path)
    }

    private static func strictLoad(_ layer: Layer, _ dict: StateDict, source: String) throws {
        do { try layer.load(stateDict: dict) } catch { throw ModelFactoryError("\(source): \(error)") }
    }

    /// A path from a config: as given, else relative to the config file.
    public static func resolveFile(_ path: String, configFile: String) throws -> String {
        if FileManager.default.fileExists(atPath: path) { return path }
        let beside = URL(fileURLWithPath: configFile).deletingLastPathComponent().appendingPathComponent(path).path
        if FileManager.default.fileExists(atPath: beside) { return beside }
        throw ModelFactoryError("\(path) (from \(configFile)): no such file or directory, neither relative to the working directory nor to the config file")
    }

    /// The original's `load_ref_model`: the reference OPT's token embedding into the SVAE's.
    private static func loadReferenceEmbeddings(into embeddings: [SentenceEmbedding], from dir: String) throws -> String {
        guard let dict = try optWeights(dir) else {
            throw ModelFactoryError("load_ref_model is true but \(dir) has no weights file to take the token embeddings from; set load_ref_model: false to start from random embeddings")
        }
        let source: TensorData
        do { source = try dict.tensor("model.decoder.embed_tokens.weight") } catch { throw ModelFactoryError("\(dir): \(error)") }
        for e in embeddings {
            let w = e.embedToken.weight
            guard source.shape == w.shape else {
                throw ModelFactoryError("\(dir): token embedding \(source.shape) does not fit the SVAE's \(w.shape)")
            }
            do { try source.copyFloats(into: UnsafeMutableBufferPointer(start: w.data, count: w.count)) } catch { throw ModelFactoryError("\(error)") }
        }
        return "token embeddings from \(dir) (load_ref_model)"
    }

    /// The original's SLLM takes OPT's learned positions and decoder layers from `llm.ref_model_dir`.
    private static func loadLLMLayers(into model: SentenceLLM, from dir: String) throws -> String {
        guard let dict = try optWeights(dir) else {
            return "no weights in \(dir): the OPT layers start random"
        }
        var renamed = StateDict()
        for t in dict.all {
            var name: String?
            if t.name.hasPrefix("model.decoder.layers.") { name = "llm_layers." + t.name.dropFirst("model.decoder.layers.".count) }
            if t.name == "model.decoder.embed_positions.weight" { name = "llm_pe.weight" }
            guard let name else { continue }
            renamed[name] = try TensorData(name: name, dtype: t.dtype, shape: t.shape, strides: t.strides, storageOffset: t.storageOffset,
                                           storage: t.storage, byteRange: t.byteRange)
        }
        let expected = model.expectedShapes().filter { $0.key.hasPrefix("llm_layers.") || $0.key == "llm_pe.weight" }
        // A converted (bf16/q8) OPT directory, such as the shipped one, is widened to fp32 for training.
        let matrices = Set(expected.filter { StoredMatrices.isMatrix($0.key, shape: $0.value) }.keys)
        let report = checkAllowingScales(renamed, expected: expected, matrices: matrices)
        guard report.isClean else { throw ModelFactoryError("\(dir): its OPT layers do not fit the SLLM:\n\(report)") }
        for (name, p) in model.parameters() where expected[name] != nil {
            do { try readWidened(name, in: renamed, into: p, isMatrix: matrices.contains(name)) } catch { throw ModelFactoryError("\(error)") }
        }
        return "OPT positions and \(model.llmLayers.count) layers from \(dir)"
    }

    private static func freezeEmbeddings(_ embeddings: [SentenceEmbedding]) {
        for e in embeddings { e.embedToken.weight.requiresGrad = false }
    }
}
