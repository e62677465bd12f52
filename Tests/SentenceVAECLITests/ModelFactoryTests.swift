import Foundation
import ModelIO
import SentenceModels
import XCTest

/// What a training config asks for at the start of training: reference embeddings, a trained
/// SVAE, the OPT layers of `llm.ref_model_dir`, and frozen parts — on the tiny fixtures.
final class ModelFactoryTests: XCTestCase {
    func config(_ base: String, _ overrides: [(String, ConfigValue)]) throws -> ConfigValue {
        ConfigValue.merged(try YAMLConfig.load(path: CommandRunner.fixture(base)), .map(overrides))
    }

    func testSVAEStartsFromTheReferenceEmbeddingsAndFreezesThem() throws {
        let file = CommandRunner.fixture("svae-tiny.yaml")
        let cfg = try SVAEConfig(config("svae-tiny.yaml", [("load_ref_model", .bool(true)), ("finetune_embedding", .bool(false))]), file: file)
        let built = try ModelFactory.svae(cfg, configFile: file, weights: .training(seed: 1))
        let reference = try HFModelDirectory(path: CommandRunner.fixture("tiny-opt")).optStateDict().tensor("model.decoder.embed_tokens.weight").floats()
        for embedding in [built.model.encoder.embedding, built.model.decoder.embedding] {
            XCTAssertEqual(embedding.embedToken.weight.values, reference)
            XCTAssertFalse(embedding.embedToken.weight.requiresGrad)
        }
        XCTAssertTrue(built.model.decoder.linear.weight.requiresGrad)
        // model_path: start from a trained SVAE.
        let fromModel = try SVAEConfig(config("svae-tiny.yaml", [("model_path", .string("svae-tiny.pth"))]), file: file)
        let trained = try ModelFactory.svae(fromModel, configFile: file, weights: .training(seed: 1)).model
        let expected = try loadStateDict(path: CommandRunner.fixture("svae-tiny.pth"))
        XCTAssertEqual(trained.decoder.linear.weight.values, try expected.tensor("decoder.linear.weight").floats())
    }

    func testSLLMTakesTheOPTLayersAndFreezesWhatTheConfigSays() throws {
        let file = CommandRunner.fixture("sllm-tiny.yaml")
        let cfg = try SLLMConfig(config("sllm-tiny.yaml", [("finetune_svae", .bool(false)), ("llm", .map([("finetune_layers", .int(0))]))]), file: file)
        let built = try ModelFactory.sllm(cfg, configFile: file, weights: .training(seed: 1))
        let opt = try HFModelDirectory(path: CommandRunner.fixture("tiny-opt")).optStateDict()
        XCTAssertEqual(built.model.llmPositions.weight.values, try opt.tensor("model.decoder.embed_positions.weight").floats())
        let q = built.model.parameters().first { $0.name == "llm_layers.1.self_attn.q_proj.weight" }!.tensor
        XCTAssertEqual(q.values, try opt.tensor("model.decoder.layers.1.self_attn.q_proj.weight").floats())
        XCTAssertTrue(built.model.svae.parameters().allSatisfy { !$0.tensor.requiresGrad }, "finetune_svae: false")
        // finetune_layers 0 of 2 layers: layers 0..<2 frozen; the stop head trains.
        XCTAssertTrue(built.model.llmLayers.allSatisfy { $0.parameters().allSatisfy { !$0.tensor.requiresGrad } })
        XCTAssertTrue(built.model.fc.weight.requiresGrad)
        // -1: everything trains.
        let all = try ModelFactory.sllm(try SLLMConfig(config("sllm-tiny.yaml", []), file: file), configFile: file, weights: .training(seed: 1))
        XCTAssertTrue(all.model.parameters().allSatisfy { $0.tensor.requiresGrad })
    }

    /// The shipped OPT directory holds q8 matrices: an SLLM started from such a directory gets
    /// them decoded (codes × scales), as from the fp32 file they were converted from, to q8's error.
    func testSLLMTakesTheOPTLayersFromAQ8Directory() throws {
        let dir = NSTemporaryDirectory() + "factory-q8-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = CommandRunner.fixture("tiny-opt")
        try FileManager.default.copyItem(atPath: source + "/config.json", toPath: dir + "/config.json")
        let opt = try HFModelDirectory(path: source).optStateDict()
        let converted = try StoredMatrices.convert(opt, to: .q8)
        XCTAssertGreaterThan(converted.report.matrices[.q8] ?? 0, 0, "the fixture's matrices convert to q8")
        try SafetensorsWriter.write(converted.tensors, metadata: [StoredMatrices.metadataKey: "q8", "format": "pt"],
                                    to: dir + "/model.safetensors")
        let file = CommandRunner.fixture("sllm-tiny.yaml")
        let cfg = try SLLMConfig(config("sllm-tiny.yaml", [("llm", .map([("ref_model_dir", .string(dir))]))]), file: file)
        let built = try ModelFactory.sllm(cfg, configFile: file, weights: .training(seed: 1))
        let q = built.model.parameters().first { $0.name == "llm_layers.1.self_attn.q_proj.weight" }!.tensor.values
        let expected = try opt.tensor("model.decoder.layers.1.self_attn.q_proj.weight").floats()
        let scale = expected.map(abs).max()!
        XCTAssertEqual(q.count, expected.count)
        for (x, y) in zip(q, expected) { XCTAssertEqual(x, y, accuracy: scale / 127) }
        XCTAssertNotEqual(q, expected, "decoded from q8, not the fp32 file")
        XCTAssertEqual(built.model.llmPositions.weight.values, try opt.tensor("model.decoder.embed_positions.weight").floats())
    }

    func testLoadRefModelWithoutWeightsIsAClearError() throws {
        let dir = NSTemporaryDirectory() + "factory-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: CommandRunner.fixture("tiny-opt/config.json"), toPath: dir + "/config.json")
        let file = dir + "/svae.yaml"
        try "learnable_add: false\nload_ref_model: true\nref_model_dir: \(dir)\nnum_hidden_layers: 1\nmax_seq_len: 16\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ModelFactory.svae(SVAEConfig(path: file), configFile: file, weights: .training(seed: 0))) {
            XCTAssertTrue("\($0)".contains("load_ref_model"), "\($0)")
        }
    }

    /// An OPT trained from a bare config.json starts as transformers' `OPTForCausalLM(config)`:
    /// N(0, init_std) matrices and embeddings, zero biases and padding row, LayerNorms 1/0.
    func testOPTFromScratchStartsAsTransformers() throws {
        let built = try ModelFactory.opt(path: CommandRunner.fixture("tiny-opt/config.json"), weights: .training(seed: 3))
        XCTAssertTrue(built.notes.joined().contains("from scratch"), "\(built.notes)")
        let model = built.model
        for (name, t) in model.namedParameters {
            let v = t.values
            if t.shape.count == 2 {
                let rows = name.hasSuffix("embed_tokens.weight") ? v.count - t.shape[1] : v.count   // the padding row is 0
                let mean = v.reduce(0, +) / Float(rows)
                let std = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(rows)).squareRoot()
                XCTAssertEqual(std, 0.02, accuracy: 0.004, name)
            } else if name.contains("layer_norm.weight") {
                XCTAssertEqual(Set(v), [1], name)
            } else {
                XCTAssertEqual(Set(v), [0], name)
            }
        }
        let pad = model.config.padId, dim = model.embedTokens.weight.shape[1]
        XCTAssertEqual(Set(model.embedTokens.weight.values[(pad * dim)..<((pad + 1) * dim)]), [0])
        // The same seed gives the same model.
        let again = try ModelFactory.opt(path: CommandRunner.fixture("tiny-opt/config.json"), weights: .training(seed: 3)).model
        XCTAssertEqual(again.embedTokens.weight.values, model.embedTokens.weight.values)
    }
}
