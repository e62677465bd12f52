import Foundation
import XCTest
@testable import ModelIO

final class TorchCheckpointTests: XCTestCase {
    /// `torch.save` of an mmengine-style dict: every tensor bit-exact, including f16/bf16/int/bool,
    /// a transpose, a strided slice, a view with a storage offset and two views of one storage.
    func testMMEngineCheckpointBitExact() throws {
        let ck = try TorchCheckpoint(path: Fixtures.path("mmengine_style.pth"))
        let sd = try ck.stateDict()
        let expected = Fixtures.expected["mmengine_style.pth"]!
        XCTAssertEqual(Set(sd.names), Set(expected.keys))
        for t in sd.all { try assertBitExact(t, expected[t.name]!) }
        // The order of the OrderedDict is kept.
        XCTAssertEqual(sd.names.first, "embed_token.weight")
        XCTAssertEqual(sd.names.last, "bf16_transposed")
    }

    func testViewsKeepTheirLayout() throws {
        let sd = try TorchCheckpoint(path: Fixtures.path("mmengine_style.pth")).stateDict()
        let w = try sd.tensor("encoder.encoder.layers.0.self_attn.in_proj_weight")
        XCTAssertEqual(w.shape, [24, 8]); XCTAssertEqual(w.strides, [1, 24]); XCTAssertFalse(w.isContiguous)
        let bias = try sd.tensor("encoder.encoder.layers.0.self_attn.in_proj_bias")
        XCTAssertEqual(bias.storageOffset, 5); XCTAssertEqual(bias.byteRange.count, 40 * 4)
        let a = try sd.tensor("shared.a"), b = try sd.tensor("shared.b")
        XCTAssertEqual(a.byteRange, b.byteRange)  // one storage
        XCTAssertEqual(b.storageOffset, 4)
        XCTAssertEqual(try b.floats(), Array(4..<12).map(Float.init))
        XCTAssertEqual(try sd.tensor("strided_slice").strides, [6, 2])
    }

    /// The rest of an mmengine checkpoint is readable data: meta, message hub, optimizer.
    func testMetaAndOtherKeys() throws {
        let ck = try TorchCheckpoint(path: Fixtures.path("mmengine_style.pth"))
        XCTAssertEqual(ck.topLevelKeys, ["meta", "state_dict", "message_hub", "optimizer"])
        let meta = try XCTUnwrap(ck.meta)
        XCTAssertEqual(meta["iter"]?.intValue, 5000)
        XCTAssertEqual(meta["experiment_name"]?.stringValue, "svae_768_h1")
        XCTAssertEqual(meta["hook_msgs"]?["best_score"]?.doubleValue, 12.5)
        guard case let .list(misc)? = meta["misc"] else { return XCTFail("misc is not a list") }
        XCTAssertEqual(misc.items.count, 8)
        guard case .bool(true) = misc.items[0], case .bool(false) = misc.items[1], case .none = misc.items[2],
              case .float(1.5) = misc.items[3], case .int(-7) = misc.items[4],
              case let .tuple(t) = misc.items[5], case let .bytes(b) = misc.items[6], case let .bigInt(big) = misc.items[7]
        else { return XCTFail("misc = \(misc.items)") }
        XCTAssertEqual(t.count, 3); XCTAssertEqual(t[2].stringValue, "three")
        XCTAssertEqual(b, Array("bytes".utf8))
        XCTAssertEqual(big, [0, 0, 0, 0, 0, 0, 0, 0, 0x40])  // 2**70
        guard case let .dict(opt)? = ck.root["optimizer"], case let .dict(state)? = opt["state"] else { return XCTFail() }
        XCTAssertEqual(state.items.count, 1)
        XCTAssertEqual(state.items[0].key.intValue, 0)
    }

    /// HF's `pytorch_model.bin`: a plain OrderedDict; the tied lm_head shares the embedding's storage.
    func testPyTorchModelBin() throws {
        let sd = try TorchCheckpoint(path: Fixtures.path("opt-tiny-bin/pytorch_model.bin")).stateDict()
        let expected = Fixtures.expected["opt-tiny"]!
        XCTAssertEqual(Set(sd.names), Set(expected.keys))
        for t in sd.all { try assertBitExact(t, expected[t.name]!) }
        XCTAssertEqual(try sd.tensor("lm_head.weight").byteRange, try sd.tensor("model.decoder.embed_tokens.weight").byteRange)
    }

    func testPickleOfPlainValues() throws {
        // {'a': [1, 2.5, 'x'], 'b': (None, True)} at protocol 2, written by Python's pickle.
        let bytes: [UInt8] = [0x80, 0x02, 0x7D, 0x71, 0x00, 0x28, 0x58, 0x01, 0x00, 0x00, 0x00, 0x61, 0x71, 0x01, 0x5D, 0x71, 0x02,
                              0x28, 0x4B, 0x01, 0x47, 0x40, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x58, 0x01, 0x00, 0x00,
                              0x00, 0x78, 0x71, 0x03, 0x65, 0x58, 0x01, 0x00, 0x00, 0x00, 0x62, 0x71, 0x04, 0x4E, 0x88, 0x86,
                              0x71, 0x05, 0x75, 0x2E]
        let v = try bytes.withUnsafeBytes { try Pickle.load($0, path: "inline") }
        guard case let .list(a)? = v["a"], case let .tuple(b)? = v["b"] else { return XCTFail("\(v)") }
        XCTAssertEqual(a.items.count, 3); XCTAssertEqual(a.items[1].doubleValue, 2.5); XCTAssertEqual(a.items[2].stringValue, "x")
        XCTAssertEqual(b.count, 2)
    }

    /// A checkpoint written by the original SentenceVAE code and mmengine's own save_checkpoint
    /// (Tools/reference/make_original_svae_checkpoint.py): the real names, plus MessageHub
    /// HistoryBuffers (numpy arrays, getattr'd methods), AdamW and scheduler state.
    func testOriginalMMEngineCheckpoint() throws {
        let ck = try TorchCheckpoint(path: Fixtures.path("original_svae_tiny.pth"))
        XCTAssertEqual(ck.topLevelKeys, ["meta", "state_dict", "message_hub", "optimizer", "param_schedulers"])
        let sd = try ck.stateDict()
        let data = FileManager.default.contents(atPath: Fixtures.path("original_svae_tiny.json"))!
        let expected = try JSONSerialization.jsonObject(with: data) as! [String: [String: Any]]
        XCTAssertEqual(Set(sd.names), Set(expected.keys))
        for t in sd.all { try assertBitExact(t, expected[t.name]!) }
        for name in ["encoder.embed_token.weight", "encoder.encoder.layers.0.self_attn.in_proj_weight",
                     "encoder.encoder.layers.1.linear2.bias", "encoder.la.weight", "encoder.lnorm.bias",
                     "decoder.decoder.layers.0.multihead_attn.out_proj.bias", "decoder.decoder.layers.1.norm3.weight",
                     "decoder.linear.weight"] {
            XCTAssertNotNil(sd[name], name)
        }
        XCTAssertEqual(sd["encoder.encoder.layers.0.self_attn.in_proj_weight"]?.shape, [24, 8])
        XCTAssertEqual(ck.meta?["experiment_name"]?.stringValue, "svae_768_h2_tiny")
        guard case let .dict(scalars)? = ck.root["message_hub"]?["log_scalars"],
              case let .object(buffer)? = scalars["train/loss"] else { return XCTFail("no HistoryBuffer") }
        XCTAssertEqual(buffer.type, "mmengine.logging.history_buffer.HistoryBuffer")
    }
}
