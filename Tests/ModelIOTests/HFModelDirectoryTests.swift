import Foundation
import XCTest
@testable import ModelIO

final class HFModelDirectoryTests: XCTestCase {
    /// The same tiny OPTForCausalLM saved four ways loads to the same bits under HF names.
    func testAllFourLayoutsGiveTheSameWeights() throws {
        let expected = Fixtures.expected["opt-tiny"]!
        for name in ["opt-tiny", "opt-tiny-bin", "opt-tiny-sharded", "opt-tiny-bin-sharded"] {
            let dir = try HFModelDirectory(path: Fixtures.path(name))
            let sd = try dir.optStateDict()
            XCTAssertEqual(sd.count, expected.count - 1, name)  // lm_head.weight is tied
            for t in sd.all { try assertBitExact(t, expected[t.name]!) }
            let config = try dir.optConfig()
            try sd.validate(expected: config.expectedShapes)
        }
        XCTAssertEqual(try HFModelDirectory(path: Fixtures.path("opt-tiny-sharded")).weightFiles.count, 4)
        XCTAssertEqual(try HFModelDirectory(path: Fixtures.path("opt-tiny-bin-sharded")).weightFiles.count, 2)
    }

    func testOPTConfig() throws {
        let c = try HFModelDirectory(path: Fixtures.path("opt-tiny")).optConfig()
        XCTAssertEqual(c.vocabSize, 64); XCTAssertEqual(c.hiddenSize, 16); XCTAssertEqual(c.ffnDim, 32)
        XCTAssertEqual(c.numAttentionHeads, 2); XCTAssertEqual(c.numHiddenLayers, 2); XCTAssertEqual(c.maxPositionEmbeddings, 32)
        XCTAssertEqual(c.wordEmbedProjDim, 16); XCTAssertTrue(c.doLayerNormBefore)
        XCTAssertEqual([c.padTokenId, c.bosTokenId, c.eosTokenId], [1, 2, 2]); XCTAssertEqual(c.dropout, 0.1)
        let c350 = try OPTConfig(contentsOf: Fixtures.path("opt-350m-style-config.json"))
        XCTAssertEqual(c350.wordEmbedProjDim, 8); XCTAssertFalse(c350.doLayerNormBefore)
        XCTAssertEqual(c350.expectedShapes["model.decoder.project_in.weight"], [16, 8])
        XCTAssertNil(c350.expectedShapes["model.decoder.final_layer_norm.weight"])
    }

    func testOPTConfigErrorsNameTheKey() throws {
        let bad = #"{"model_type": "opt", "hidden_size": 16, "ffn_dim": 32, "num_attention_heads": 2, "num_hidden_layers": "two", "max_position_embeddings": 8, "vocab_size": 10}"#
        XCTAssertThrowsError(try OPTConfig(json: Data(bad.utf8), path: "c.json")) { e in
            XCTAssertTrue("\(e)".contains("num_hidden_layers"), "\(e)")
        }
        let missing = #"{"hidden_size": 16}"#
        XCTAssertThrowsError(try OPTConfig(json: Data(missing.utf8), path: "c.json")) { e in
            XCTAssertTrue("\(e)".contains("c.json") && "\(e)".contains("missing"), "\(e)")
        }
    }

    /// An index may only name files beside it.
    func testShardIndexCannotEscapeTheDirectory() throws {
        let dir = temporaryDirectory()
        try #"{"weight_map": {"w": "../../etc/passwd"}}"#.write(toFile: dir + "/model.safetensors.index.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try HFModelDirectory(path: dir)) { e in XCTAssertTrue("\(e)".contains("plain file name"), "\(e)") }
    }

    /// An index naming a tensor that no shard holds is an error that names it.
    func testShardIndexMustMatchShards() throws {
        let dir = temporaryDirectory()
        let src = Fixtures.path("opt-tiny-sharded")
        for f in try FileManager.default.contentsOfDirectory(atPath: src) {
            try FileManager.default.copyItem(atPath: src + "/" + f, toPath: dir + "/" + f)
        }
        let indexPath = dir + "/model.safetensors.index.json"
        var index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: indexPath))) as! [String: Any]
        var map = index["weight_map"] as! [String: String]
        map["model.decoder.ghost.weight"] = "model-00001-of-00004.safetensors"
        index["weight_map"] = map
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: indexPath))
        XCTAssertThrowsError(try HFModelDirectory(path: dir).stateDict()) { e in XCTAssertTrue("\(e)".contains("ghost"), "\(e)") }
    }

    func testLoadStateDictDispatchesOnFormat() throws {
        XCTAssertEqual(try loadStateDict(path: Fixtures.path("tensors.safetensors")).count, 11)
        XCTAssertEqual(try loadStateDict(path: Fixtures.path("mmengine_style.pth")).count, 16)
        XCTAssertEqual(try loadStateDict(path: Fixtures.path("opt-tiny-bin")).count, 37)
        XCTAssertEqual(try loadStateDict(path: Fixtures.path("opt-tiny-sharded/model.safetensors.index.json")).count, 36)
        XCTAssertThrowsError(try loadStateDict(path: Fixtures.path("nope")))
    }
}
