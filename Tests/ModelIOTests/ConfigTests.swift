import Foundation
import XCTest
@testable import ModelIO

final class ConfigTests: XCTestCase {
    /// Configs/ at the package root (tests run from the package directory or its .build).
    static let configsDir: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path + "/Configs"
    }()

    func config(_ rel: String) -> String { ConfigTests.configsDir + "/" + rel }

    /// All 18 shipped configs resolve and type-check, with the values the original uses.
    func testEveryShippedConfigResolves() throws {
        let sizes = ["768": "opt-125m", "1024": "opt-350m", "2048": "opt-1.3b"]
        for (size, opt) in sizes {
            for h in [1, 2, 4] {
                let path = config("SVAE/SVAE-\(size)/svae_\(size)_h\(h).yaml")
                guard case let .svae(c) = try ModelConfig(path: path) else { return XCTFail(path) }
                XCTAssertEqual(c.numHiddenLayers, h, path)
                XCTAssertEqual(c.refModelDir, "model_repo/\(opt)", path)
                XCTAssertEqual(c.maxSeqLen, 64); XCTAssertEqual(c.training?.batchSize, 128)
                XCTAssertEqual(c.training?.baseLR, 1e-7); XCTAssertFalse(c.learnableAdd)
                XCTAssertNil(c.modelPath); XCTAssertNil(c.refModelDtype)
                XCTAssertEqual(c.training?.maxIters, 300_000); XCTAssertEqual(c.training?.cosineAnnealingTMax, 20000)
                XCTAssertEqual(c.warnings, [])
            }
        }
        for opt in ["125m", "350m", "1.3b"] {
            for h in [1, 2, 4] {
                let path = config("SLLM/SLLM-\(opt)/sllm_\(opt)_h\(h)_all.yaml")
                guard case let .sllm(c) = try ModelConfig(path: path) else { return XCTFail(path) }
                XCTAssertEqual(c.svae.numHiddenLayers, h, path)
                XCTAssertEqual(c.svae.refModelDir, "model_repo/opt-\(opt)")
                XCTAssertEqual(c.llm.refModelDir, "model_repo/opt-\(opt)")
                XCTAssertEqual(c.llm.finetuneLayers, -1); XCTAssertTrue(c.finetuneSVAE)
                XCTAssertEqual(c.maxSentenceLen, 64); XCTAssertEqual(c.maxSentenceNum, 64)
                XCTAssertEqual(c.training?.baseLR, 1e-6); XCTAssertEqual(c.training?.maxIters, 1_600_000)
                XCTAssertEqual(c.warnings, [])
            }
        }
    }

    /// The default family's training configs (Configs/Default): each resolves with no unknown key
    /// and its training keys, and the SLLM's lengths and SVAE depth are the SVAE's.
    func testDefaultFamilyConfigsFitTogether() throws {
        let opt = try OPTTrainConfig(YAMLConfig.load(path: config("Default/opt.yaml")), file: config("Default/opt.yaml"))
        XCTAssertEqual(opt.warnings, []); XCTAssertNotNil(opt.training, "\(opt.trainingProblems)")
        XCTAssertNotNil(opt.tokenizerDir)
        guard case let .svae(svae) = try ModelConfig(path: config("Default/svae.yaml")),
              case let .sllm(sllm) = try ModelConfig(path: config("Default/sllm.yaml")) else { return XCTFail("config kinds") }
        for (name, c) in [("svae", svae.warnings), ("sllm", sllm.warnings)] { XCTAssertEqual(c, [], name) }
        XCTAssertNotNil(svae.training, "\(svae.trainingProblems)"); XCTAssertNotNil(sllm.training, "\(sllm.trainingProblems)")
        XCTAssertEqual(sllm.svae.numHiddenLayers, svae.numHiddenLayers)
        XCTAssertEqual(sllm.maxSentenceLen, svae.maxSeqLen)
        XCTAssertEqual(sllm.svae.refModelDir, svae.refModelDir)
        XCTAssertEqual(sllm.svae.learnableAdd, svae.learnableAdd)
        XCTAssertTrue(sllm.finetuneSVAE, "the SVAE trains with the SLLM, as in the original's sllm_base.yaml")
        XCTAssertNotNil(sllm.svae.modelPath, "the trained SVAE it starts from")
        for t in [opt.training, svae.training, sllm.training].compactMap({ $0 }) {
            XCTAssertEqual(t.lrSchedule, "cosine"); XCTAssertEqual(t.resumeTrain, false)
        }
    }

    /// The resolved YAML parses back (with Yams) to the same value.
    func testResolvedYAMLRoundTrips() throws {
        for rel in ["SVAE/SVAE-1024/svae_1024_h2.yaml", "SLLM/SLLM-350m/sllm_350m_h4_all.yaml"] {
            let v = try YAMLConfig.load(path: config(rel))
            let text = v.yaml()
            XCTAssertEqual(try YAMLConfig.parse(text, path: "/tmp/x.yaml"), v, text)
            XCTAssertFalse(text.contains("__base__"))
        }
        XCTAssertEqual(ConfigValue.double(1e-7).inline(), "1.0e-07")
        let odd = ConfigValue.map([("true", .string("yes")), ("a b", .list([.int(1), .null])), ("e", .map([]))])
        XCTAssertEqual(try YAMLConfig.parse(odd.yaml(), path: "/tmp/x.yaml"), odd)
    }

    /// Inheritance: recursive update, paths relative to the including file, nested includes.
    func testIncludeSemantics() throws {
        let d = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: d + "/sub", withIntermediateDirectories: true)
        try "a: 1\nnested: {x: 1, y: 2}\nlist: [1, 2]\n".write(toFile: d + "/root.yaml", atomically: true, encoding: .utf8)
        try "__base__: !include ../root.yaml\nnested: {y: 3, z: 4}\nlist: [9]\n".write(toFile: d + "/sub/mid.yaml", atomically: true, encoding: .utf8)
        try "__base__: !include ./mid.yaml\na: 5\n".write(toFile: d + "/sub/leaf.yaml", atomically: true, encoding: .utf8)
        let v = try YAMLConfig.load(path: d + "/sub/leaf.yaml")
        XCTAssertEqual(v, .map([("a", .int(5)), ("nested", .map([("x", .int(1)), ("y", .int(3)), ("z", .int(4))])), ("list", .list([.int(9)]))]))
    }

    func testIncludeErrors() throws {
        let d = temporaryDirectory()
        try "__base__: !include b.yaml\n".write(toFile: d + "/a.yaml", atomically: true, encoding: .utf8)
        try "__base__: !include a.yaml\n".write(toFile: d + "/b.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try YAMLConfig.load(path: d + "/a.yaml")) { e in XCTAssertTrue("\(e)".contains("include cycle"), "\(e)") }
        try "__base__: !include missing.yaml\n".write(toFile: d + "/c.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try YAMLConfig.load(path: d + "/c.yaml")) { e in
            XCTAssertTrue("\(e)".contains("c.yaml") && "\(e)".contains("missing.yaml"), "\(e)")
        }
        try "a: [1, 2\n".write(toFile: d + "/bad.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try YAMLConfig.load(path: d + "/bad.yaml")) { e in XCTAssertTrue("\(e)".contains("not valid YAML"), "\(e)") }
        // A missing file, a directory and bytes that are not UTF-8 each say which they are.
        XCTAssertThrowsError(try YAMLConfig.load(path: d + "/none.yaml")) { e in XCTAssertTrue("\(e)".contains("no such file"), "\(e)") }
        XCTAssertThrowsError(try YAMLConfig.load(path: d)) { e in XCTAssertTrue("\(e)".contains("is a directory"), "\(e)") }
        try Data([0x61, 0x3A, 0x20, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: d + "/binary.yaml"))
        XCTAssertThrowsError(try YAMLConfig.load(path: d + "/binary.yaml")) { e in XCTAssertTrue("\(e)".contains("not UTF-8"), "\(e)") }
    }

    /// Unknown key → warning; missing key / wrong type → error naming the file and key.
    func testTypedConfigChecks() throws {
        let d = temporaryDirectory()
        let base = config("SVAE/svae_base.yaml")
        try "__base__: !include \(base)\nnum_hidden_layerz: 3\n".write(toFile: d + "/typo.yaml", atomically: true, encoding: .utf8)
        let c = try SVAEConfig(path: d + "/typo.yaml")
        XCTAssertEqual(c.warnings.count, 1)
        XCTAssertTrue(c.warnings[0].contains("typo.yaml") && c.warnings[0].contains("num_hidden_layerz"))

        try "__base__: !include \(base)\nmax_seq_len: long\n".write(toFile: d + "/type.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SVAEConfig(path: d + "/type.yaml")) { e in
            XCTAssertEqual((e as? ModelIOError).map { if case let .config(f, k, _) = $0 { return f + "|" + k }; return "" }, d + "/type.yaml|max_seq_len")
        }
        XCTAssertThrowsError(try SLLMConfig(path: config("SLLM/sllm_base.yaml"))) { e in
            XCTAssertTrue("\(e)".contains("svae.num_hidden_layers") && "\(e)".contains("missing"), "\(e)")
        }
        try "device: cpu\n".write(toFile: d + "/short.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SVAEConfig(path: d + "/short.yaml")) { e in XCTAssertTrue("\(e)".contains("'learnable_add'"), "\(e)") }
    }

    /// A config with only the model's keys (what the original's demo scripts read) is a valid
    /// model config; training asks for the missing training keys, all of them at once.
    func testModelOnlyConfigAndTrainingKeys() throws {
        let d = temporaryDirectory()
        let model = "learnable_add: false\nref_model_dir: opt\nnum_hidden_layers: 1\nmax_seq_len: 32\n"
        try model.write(toFile: d + "/model.yaml", atomically: true, encoding: .utf8)
        let c = try SVAEConfig(path: d + "/model.yaml")
        XCTAssertEqual(c.warnings, [])
        XCTAssertNil(c.training)
        XCTAssertThrowsError(try c.requireTraining()) { e in
            for key in ["batch_size", "base_lr", "max_iters", "warmup_iters", "cosineannealinglr_tmax"] {
                XCTAssertTrue("\(e)".contains("'\(key)'"), "\(key): \(e)")
            }
            XCTAssertFalse("\(e)".contains("resume_train"), "\(e)")
        }
        let train = model + "batch_size: 4\nbase_lr: 1.0e-4\nsave_checkpoint_iters: 10\nmax_iters: 20\nwarmup_iters: 2\nval_iters: 5\n"
            + "cosineannealinglr_tmax: 20\nmax_keep_ckpts: 2\nlr_schedule: cosine\nema_momentum: 0\n"
        try train.write(toFile: d + "/train.yaml", atomically: true, encoding: .utf8)
        let t = try SVAEConfig(path: d + "/train.yaml").requireTraining()
        XCTAssertEqual(t.learningRate, 4e-4, accuracy: 1e-12)
        XCTAssertEqual(t.lrSchedule, "cosine"); XCTAssertEqual(t.emaMomentum, 0); XCTAssertFalse(t.resumeTrain)
        try (train + "lr_schedule: linear\n").write(toFile: d + "/bad.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SVAEConfig(path: d + "/bad.yaml").requireTraining()) { e in XCTAssertTrue("\(e)".contains("lr_schedule"), "\(e)") }
    }

    /// Aliases that expand exponentially are stopped, not followed.
    func testAliasBomb() throws {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1..<9 { yaml += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        XCTAssertThrowsError(try YAMLConfig.parse(yaml, path: "bomb.yaml")) { e in XCTAssertTrue("\(e)".contains("alias bomb"), "\(e)") }
    }
}
