import ArgumentParser
import Foundation
import ModelIO
import SentenceModels
import TensorCore
import Tokenization
import Training

/// The model kinds the trainer and evaluator know.
enum ModelKind: String, ExpressibleByArgument, CaseIterable {
    case opt, svae, sllm
}

/// Where training and evaluation text comes from, as `--data` and friends say.
struct DataOptions: ParsableArguments {
    @Option(help: "A corpus (.txt: documents separated by blank lines; .jsonl: one document per line; or a directory of them), or the URL of a data server (http://HOST:PORT, the original's TeleDS protocol).")
    var data: String

    @Option(help: "Local corpora: documents of the eval split (the first ones in the seeded order; never trained on).")
    var evalDocuments: Int = 50

    @Option(help: "Data server: items at the start that are the eval split (the original's eval_samples).")
    var evalItems: Int = 1000

    @Option(help: "The field of each JSONL object that holds the text.")
    var jsonlField: String = "content"

    @Option(help: "How documents are cut into sentences: original (as the released checkpoints were trained; drops text after the last cut) or default.")
    var splitter: SentenceSplitter.Mode = .original

    /// The source of items for a model kind: sentences for the SVAE, passages otherwise.
    func source(for kind: ModelKind, seed: UInt64) throws -> any SampleSource {
        let unit: SampleUnit = kind == .svae ? .sentences : .passages
        do {
            if data.hasPrefix("http://") || data.hasPrefix("https://") {
                return try DataServerSource(url: data, evalCount: evalItems)
            }
            let corpus = try Corpus.load(path: data, jsonlField: jsonlField)
            for note in corpus.notes { warn("note: \(note)") }
            return try LocalCorpusSource(corpus: corpus, unit: unit, evalDocuments: evalDocuments, seed: seed, splitterMode: splitter)
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("\(error)")
        }
    }
}

/// `sentencevae train opt|svae|sllm`: the original's `tools/train/train_*.py`.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an OPT baseline, a SentenceVAE or a sentence-level LLM with the original's recipe.",
        discussion: """
            CONFIG is the original's YAML (Configs/SVAE/**, Configs/SLLM/**) or, for opt, a YAML with \
            ref_model_dir (an HF OPT directory to continue training, or a config.json to train from \
            scratch), max_length and the training keys (Configs/OPT/**). --set overrides any key \
            (--set max_iters=2000 --set batch_size=16 --set llm.finetune_layers=2).

            Recipe: AdamW (lr = batch_size × base_lr, weight decay 0.01), mmengine's LinearLR × \
            CosineAnnealingLR per iteration (lr_schedule: cosine for warm-up then one cosine to 0), \
            clipping at norm 1.0, EMA of the weights (ema_momentum, 0.0002; 0 = off) used for \
            evaluation and saved as the model. One iteration is one optimizer step over batch_size \
            samples; --accumulate N splits it into N micro-batches whose losses are weighted by \
            their token counts, so the step equals one big batch. Dropout masks depend only on \
            (seed, iteration, sample), never on the split.

            WORKDIR (default exp/<config name>): checkpoints/iter_N.safetensors (model, EMA weights) \
            and iter_N.state.safetensors (what --resume needs), latest.safetensors, best.safetensors \
            (lowest eval PPL), final.safetensors, metrics.jsonl, tensorboard/ (tensorboard --logdir \
            WORKDIR). Ctrl-C stops after writing a checkpoint; --resume continues bit for bit.

            Data-parallel: mpirun -np N sentencevae train … (or srun --mpi=pmix under Slurm) runs N \
            ranks; each computes its shard of every global batch (batch_size stays the global \
            batch) and the gradients are summed with MPI_Allreduce, so the step equals the \
            single-process one. Rank 0 writes the work directory, which every rank must see at the \
            same path to --resume. Needs Open MPI's libmpi at run time (SENTENCEVAE_LIBMPI=PATH to \
            choose one); default threads per rank = cores / ranks on the machine.
            """
    )

    @Argument(help: "opt | svae | sllm")
    var kind: ModelKind

    @Option(name: [.customShort("c"), .customLong("config")], help: "The YAML config.")
    var config: String

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "The work directory (default: exp/<config file name>).")
    var workDir: String?

    @Option(name: .customLong("set"), help: "Override a config key: key=value (repeatable).")
    var overrides: [String] = []

    @Flag(help: "Continue from the newest checkpoint in the work directory.")
    var resume = false

    @Option(help: "Micro-batches per optimizer step (gradient accumulation).")
    var accumulate: Int = 1

    @Option(help: "Kernel threads, the calling thread included (default: all cores).")
    var threads: Int?

    func validate() throws {
        if accumulate < 1 { throw ValidationError("--accumulate must be at least 1 (got \(accumulate))") }
        try checkThreads(threads)
        if dataOptions.evalDocuments < 0 { throw ValidationError("--eval-documents must be 0 or more") }
    }

    func run() throws {
        let communicator: Communicator
        do { communicator = MPICommunicator.launchedByMPI ? try MPICommunicator() : SingleProcess() } catch { throw CLIError("\(error)") }
        if communicator.size > 1 {
            // Ranks × threads ≤ cores: ranks on one machine share its cores.
            let local = MPICommunicator.localRanks ?? communicator.size
            Threads.count = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / local)
            do { try train(communicator) } catch {
                communicator.abort("error (rank \(communicator.rank) of \(communicator.size)): \(error)", code: 1)
            }
            (communicator as? MPICommunicator)?.finalize()
            if Interrupt.isRequested { throw ExitCode(130) }
        } else {
            if let threads { Threads.count = threads }
            try train(communicator)
        }
    }

    func train(_ communicator: Communicator) throws {
        Warnings.silenced = !communicator.isRoot
        let value: ConfigValue
        do { value = try ConfigOverrides.apply(overrides, to: YAMLConfig.load(path: config)) } catch let e as CLIError { throw e } catch {
            throw CLIError("\(error)")
        }
        let work = workDir ?? "exp/" + URL(fileURLWithPath: config).deletingPathExtension().lastPathComponent
        let built = try TrainingSetup.build(kind: kind, config: value, configFile: config, data: dataOptions)
        if built.device.lowercased().hasPrefix("cuda") {
            warn("note: the config says device: \(built.device); this build trains on the CPU")
        }
        var settings = TrainerSettings(workDirectory: work, config: built.training, kind: kind.rawValue)
        settings.accumulate = accumulate
        settings.resume = resume || built.training.resumeTrain
        settings.modelMetadata = ["config": value.yaml()]
        settings.communicator = communicator
        warn("training \(kind.rawValue): \(built.parameterCount) parameters (\(built.trainableCount) trainable), "
            + "\(built.trainCount) train items, \(built.evalTexts.count) eval items; work directory \(work)")
        if let mpi = communicator as? MPICommunicator {
            warn("data-parallel: \(mpi.size) ranks (MPI: \(mpi.libraryPath)), \(Threads.count) thread(s) per rank, "
                + "\(built.training.batchSize / mpi.size)–\((built.training.batchSize + mpi.size - 1) / mpi.size) samples per rank")
        }
        for note in built.notes { warn("note: \(note)") }
        Interrupt.install()
        let summary: TrainSummary
        do { summary = try built.run(settings) } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
        if summary.interrupted, communicator.size == 1 { throw ExitCode(130) }
    }
}

/// A model, its objective and its data, ready to train or evaluate: the same for `train` and `eval`.
struct TrainingSetup {
    var training: TrainingConfig
    var device: String
    var notes: [String]
    var parameterCount: Int
    var trainableCount: Int
    var trainCount: Int
    var evalTexts: [String]
    var evalBatchSize: Int
    /// Runs the trainer over this setup's model and data.
    var run: (TrainerSettings) throws -> TrainSummary
    /// Perplexity of the model on `texts`.
    var perplexity: ([String], Int) throws -> PerplexityResult
    /// The figures `eval` adds for this kind of model, over `texts`.
    var extras: ([String], EvalFigureOptions) throws -> [String: Any] = { _, _ in [:] }

    static func build(kind: ModelKind, config value: ConfigValue, configFile: String, data: DataOptions,
                      weights: ModelWeights? = nil, requireTraining: Bool = true) throws -> TrainingSetup {
        func wrap<T>(_ body: () throws -> T) throws -> T {
            do { return try body() } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
        }
        switch kind {
        case .svae:
            let cfg = try wrap { try SVAEConfig(value, file: configFile) }
            ModelAssets.report(warnings: cfg.warnings)
            let training = try trainingConfig(cfg, required: requireTraining)
            let loaded = try wrap { try ModelFactory.svae(cfg, configFile: configFile, weights: weights ?? .training(seed: UInt64(training.seed))) }
            let collation = try wrap { try SentenceCollation(tokenizer: ModelAssets.tokenizer(loaded.referenceDirectory), maxLength: cfg.maxSeqLen) }
            let collate = locked(collation.callAsFunction)
            let objective = SVAEObjective(model: loaded.model, collate: collate)
            var setup = try finish(objective, kind: kind, training: training, device: cfg.device, notes: loaded.notes, data: data)
            setup.extras = { texts, _ in try EvalFigures.reconstruction(loaded.model, texts: texts, collate: collate, batchSize: training.batchSize) }
            return setup
        case .sllm:
            let cfg = try wrap { try SLLMConfig(value, file: configFile) }
            ModelAssets.report(warnings: cfg.warnings)
            let training = try trainingConfig(cfg, required: requireTraining)
            let loaded = try wrap { try ModelFactory.sllm(cfg, configFile: configFile, weights: weights ?? .training(seed: UInt64(training.seed))) }
            let tokenizer = try ModelAssets.tokenizer(loaded.svaeDirectory)
            let collation = try wrap {
                try PassageCollation(tokenizer: tokenizer, splitterMode: data.splitter, maxSentences: cfg.maxSentenceNum,
                                     maxSentenceLength: cfg.maxSentenceLen)
            }
            let collate: ([String]) throws -> PassageBatch = locked(collation.callAsFunction)
            let objective = SLLMObjective(model: loaded.model, collate: collate)
            var setup = try finish(objective, kind: kind, training: training, device: cfg.device, notes: loaded.notes, data: data)
            // Extras run only in `eval`, where no prefetch thread tokenizes alongside them.
            setup.extras = { texts, options in
                try EvalFigures.sllm(loaded.model, texts: texts, tokenizer: tokenizer, collate: collate, splitter: collation.splitter,
                                     maxSentenceLength: cfg.maxSentenceLen, options: options)
            }
            return setup
        case .opt:
            let cfg = try wrap { try OPTTrainConfig(value, file: configFile) }
            ModelAssets.report(warnings: cfg.warnings)
            let training = try trainingConfig(cfg, required: requireTraining)
            let modelPath = try resolvePath(cfg.refModelDir, configFile: configFile)
            let loaded = try wrap { try ModelFactory.opt(path: modelPath, weights: weights ?? .training(seed: UInt64(training.seed))) }
            guard let tokenizerDir = try cfg.tokenizerDir.map({ try resolvePath($0, configFile: configFile) }) ?? loaded.directory else {
                throw CLIError("\(configFile): ref_model_dir is a config.json; say where the tokenizer is with tokenizer_dir")
            }
            let tokenizer = try ModelAssets.tokenizer(tokenizerDir)
            let collation = try wrap { try TokenWindowCollation(tokenizer: tokenizer, maxLength: cfg.maxLength) }
            let objective = OPTObjective(model: loaded.model, collate: locked(collation.callAsFunction))
            var setup = try finish(objective, kind: kind, training: training, device: cfg.device, notes: loaded.notes, data: data)
            setup.extras = { texts, options in
                try EvalFigures.opt(loaded.model, texts: texts, tokenizer: tokenizer, maxLength: cfg.maxLength,
                                    splitter: SentenceSplitter(mode: data.splitter), options: options)
            }
            return setup
        }
    }

    /// A collation behind a lock: the trainer's prefetch thread and evaluation on the main thread
    /// share it, and a tokenizer is not thread-safe.
    static func locked<T>(_ collate: @escaping ([String]) throws -> T) -> ([String]) throws -> T {
        let lock = NSLock()
        return { texts in try lock.withLock { try collate(texts) } }
    }

    /// The training keys, or (for eval) defaults that only set the batch size and seed.
    static func trainingConfig(_ cfg: TrainableConfig, required: Bool) throws -> TrainingConfig {
        if let training = cfg.training { return training }
        if required { do { return try cfg.requireTraining() } catch { throw CLIError("\(error)") } }
        return TrainingConfig(batchSize: 32, baseLR: 0, saveCheckpointIters: 1, maxIters: 1, warmupIters: 1, valIters: 1,
                              cosineAnnealingTMax: 1, maxKeepCheckpoints: 1)
    }

    static func resolvePath(_ path: String, configFile: String) throws -> String {
        do { return try ModelFactory.resolveFile(path, configFile: configFile) } catch { throw CLIError("\(error)") }
    }

    static func finish<O: Objective>(_ objective: O, kind: ModelKind, training: TrainingConfig, device: String, notes: [String],
                                     data: DataOptions) throws -> TrainingSetup {
        let source = try data.source(for: kind, seed: UInt64(training.seed))
        let sampler: TrainingSampler
        do { sampler = try TrainingSampler(source: source, seed: UInt64(training.seed)) } catch { throw CLIError("\(data.data): \(error)") }
        let evalCount = min(source.evalCount, training.evalSamples ?? Int.max)
        let evalTexts: [String]
        do { evalTexts = try (0..<evalCount).map { try source.item($0) } } catch { throw CLIError("\(error)") }
        let parameters = objective.layer.parameters()
        let batchSize = training.batchSize
        return TrainingSetup(
            training: training, device: device, notes: notes,
            parameterCount: parameters.reduce(0) { $0 + $1.tensor.count },
            trainableCount: parameters.filter { $0.tensor.requiresGrad }.reduce(0) { $0 + $1.tensor.count },
            trainCount: sampler.trainCount, evalTexts: evalTexts, evalBatchSize: batchSize,
            run: { settings in
                let trainer = try Trainer(objective: objective, settings: settings, evalTexts: evalTexts) { iteration, shard in
                    try sampler.indices(step: iteration, batchSize: batchSize)[shard].map { try source.item($0) }
                }
                return try trainer.run()
            },
            perplexity: { texts, batch in try Perplexity.evaluate(objective, texts: texts, batchSize: batch) })
    }
}
