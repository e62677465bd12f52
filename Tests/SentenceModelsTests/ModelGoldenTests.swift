import Foundation
import TestSupport
import XCTest
import NeuralNet
import TensorCore
@testable import SentenceModels

/// The models against the original's PyTorch modules and HF OPT, random weights at tiny sizes
/// (fixture: `Tools/reference/make_model_goldens.py`). Tolerance 1e-4 relative + 1e-5 absolute.
final class ModelGoldenTests: XCTestCase {
    static let goldens: [String: Any] = {
        let url = Bundle.module.url(forResource: "Fixtures/model_goldens", withExtension: "json")!
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }()

    static func tensor(_ object: Any) throws -> Tensor {
        let dict = object as! [String: Any]
        return try Tensor(shape: (dict["shape"] as! [NSNumber]).map(\.intValue),
                          values: (dict["values"] as! [NSNumber]).map(\.floatValue))
    }

    static func weights(_ object: Any, prefix: String = "") throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (k, v) in object as! [String: Any] { out[prefix + k] = try tensor(v) }
        return out
    }

    static func ints(_ key: String) -> [Int] { (goldens[key] as! [NSNumber]).map(\.intValue) }

    static var batch: TokenBatch {
        try! TokenBatch(ids: ints("ids"), mask: ints("mask").map { $0 != 0 },
                        batch: (goldens["batch"] as! NSNumber).intValue, length: (goldens["length"] as! NSNumber).intValue)
    }

    private func svaeConfig(_ c: [String: Any]) -> SentenceVAEConfiguration {
        SentenceVAEConfiguration(hiddenSize: 16, vocabularySize: 64,
                                 wordEmbedProjectionDim: (c["word_embed_proj_dim"] as! NSNumber).intValue,
                                 attentionHeads: 4, layers: (c["layers"] as! NSNumber).intValue, maxSequenceLength: 32,
                                 learnableAdd: c["learnable_add"] as! Bool)
    }

    func testSentenceEncoderAndDecoder() throws {
        for name in ["plain_sum", "learnable_add", "project_in"] {
            let c = Self.goldens[name] as! [String: Any]
            let svae = try SentenceVAE(config: svaeConfig(c))
            let w = try Self.weights(c["encoder"]!, prefix: "encoder.").merging(Self.weights(c["decoder"]!, prefix: "decoder.")) { a, _ in a }
            XCTAssertEqual(Set(svae.namedParameters.map(\.name)), Set(w.keys), "\(name): names match the original's state dict")
            try svae.load(w)
            try withNoGrad {
                let vectors = try svae.encoder(Self.batch)
                assertClose(vectors.values, try Self.tensor(c["vectors"]!).values, "\(name) encoder vectors")
                let logits = try svae.decoder(Self.batch, memory: vectors)
                assertClose(logits.values, try Self.tensor(c["logits"]!).values, "\(name) decoder logits")
            }
        }
    }

    func testOPTLogitsBothShapes() throws {
        for name in ["opt_pre_ln", "opt_post_ln"] {
            let c = Self.goldens[name] as! [String: Any]
            let cfg = c["config"] as! [String: Any]
            let opt = try OPTModel(config: OPTConfiguration(
                hiddenSize: 16, ffnDim: (cfg["ffn_dim"] as! NSNumber).intValue, attentionHeads: 4,
                layers: (cfg["layers"] as! NSNumber).intValue, maxPositionEmbeddings: (cfg["max_positions"] as! NSNumber).intValue,
                wordEmbedProjectionDim: (cfg["word_embed_proj_dim"] as! NSNumber).intValue,
                layerNormBefore: cfg["layer_norm_before"] as! Bool, vocabularySize: 64))
            let w = try Self.weights(c["params"]!)
            XCTAssertEqual(Set(opt.namedParameters.map(\.name)), Set(w.keys), "\(name): names match HF")
            try opt.load(weights: w)
            let logits = try withNoGrad { try opt(Self.batch) }
            // Padded positions are computed too (HF does), so compare the whole tensor.
            assertClose(logits.values, try Self.tensor(c["logits"]!).values, "\(name) logits")
        }
    }

    func testOPTLoadsBareOPTModelKeys() throws {
        let c = Self.goldens["opt_pre_ln"] as! [String: Any]
        var bare: [String: Tensor] = [:]
        for (k, v) in try Self.weights(c["params"]!) { bare[String(k.dropFirst("model.".count))] = v }
        let opt = try OPTModel(config: OPTConfiguration(hiddenSize: 16, ffnDim: 48, attentionHeads: 4, layers: 2,
                                                        maxPositionEmbeddings: 40, vocabularySize: 64))
        try opt.load(weights: bare)
        let logits = try withNoGrad { try opt(Self.batch) }
        assertClose(logits.values, try Self.tensor(c["logits"]!).values, "bare keys")
    }

    func testSentenceLLMHiddenStatesAndStopLogits() throws {
        let c = Self.goldens["sllm"] as! [String: Any]
        let sllm = try SentenceLLM(
            svae: SentenceVAEConfiguration(hiddenSize: 16, vocabularySize: 64, attentionHeads: 4, layers: 1, maxSequenceLength: 32),
            llm: OPTConfiguration(hiddenSize: 16, ffnDim: 48, attentionHeads: 4, layers: 2, maxPositionEmbeddings: 40, vocabularySize: 64))
        let w = try Self.weights(c["params"]!)
        XCTAssertEqual(Set(sllm.namedParameters.map(\.name)), Set(w.keys), "names match the original SentenceLLM")
        try sllm.load(w)
        let out = try withNoGrad { try sllm(Self.batch) }
        assertClose(out.hidden.values, try Self.tensor(c["hidden"]!).values, "SLLM hidden")
        assertClose(out.stopLogits.values, try Self.tensor(c["stop_logits"]!).values, "SLLM stop logits")
    }
}
