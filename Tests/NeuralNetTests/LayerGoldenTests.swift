import Foundation
import TestSupport
import XCTest
import TensorCore
@testable import NeuralNet

/// Layers against PyTorch / HF transformers with random weights (fixture made by
/// `Tools/reference/make_layer_goldens.py`). Tolerance: 1e-4 relative + 1e-5 absolute, fp32.
final class LayerGoldenTests: XCTestCase {
    private static let goldens: [String: Any] = {
        let url = Bundle.module.url(forResource: "Fixtures/layer_goldens", withExtension: "json")!
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }()

    private func tensor(_ object: Any) throws -> Tensor {
        let dict = object as! [String: Any]
        let shape = (dict["shape"] as! [NSNumber]).map(\.intValue)
        let values = (dict["values"] as! [NSNumber]).map(\.floatValue)
        return try Tensor(shape: shape, values: values)
    }

    private func weights(_ c: String) throws -> [String: Tensor] {
        let params = (Self.goldens[c] as! [String: Any])["params"] as! [String: Any]
        return try params.mapValues { try tensor($0) }
    }

    private func expected(_ c: String) throws -> Tensor { try tensor((Self.goldens[c] as! [String: Any])["y"]!) }

    private var x: Tensor { get throws { try tensor(Self.goldens["x"]!) } }
    private var memory: Tensor { get throws { try tensor(Self.goldens["memory"]!) } }
    private var padding: Mask {
        get throws {
            try Mask(shape: [2, 5], values: (Self.goldens["padding"] as! [NSNumber]).map { $0.intValue != 0 })
        }
    }

    /// Loads a layer and checks its parameter names are exactly the PyTorch state-dict keys.
    private func load(_ layer: Layer, _ c: String) throws {
        let w = try weights(c)
        XCTAssertEqual(Set(layer.namedParameters.map(\.name)), Set(w.keys), "\(c): parameter names")
        try layer.load(w)
    }

    func testMultiheadAttention() throws {
        var g = RandomGenerator(seed: 0)
        let mha = try MultiheadAttention(embedDim: 16, heads: 4, generator: &g)
        try load(mha, "mha_self")
        let x = try x
        try withNoGrad {
            assertClose(try mha(query: x, keyValue: x, keyPadding: padding).values, try expected("mha_self").values, "self-attention")
            assertClose(try mha(query: x, keyValue: memory).values, try expected("mha_cross").values, "cross-attention")
        }
    }

    func testTransformerEncoderLayer() throws {
        var g = RandomGenerator(seed: 0)
        let layer = try TransformerEncoderLayer(dim: 16, heads: 4, ffnDim: 32, generator: &g)
        try load(layer, "encoder_layer")
        let y = try withNoGrad { try layer(x, keyPadding: padding) }
        assertClose(y.values, try expected("encoder_layer").values, "encoder layer")
    }

    func testTransformerDecoderLayer() throws {
        var g = RandomGenerator(seed: 0)
        let layer = try TransformerDecoderLayer(dim: 16, heads: 4, ffnDim: 32, generator: &g)
        try load(layer, "decoder_layer")
        let y = try withNoGrad { try layer(x, memory: memory, keyPadding: padding) }
        assertClose(y.values, try expected("decoder_layer").values, "decoder layer")
    }

    func testOPTDecoderLayers() throws {
        for (c, before) in [("opt_layer_pre_ln", true), ("opt_layer_post_ln", false)] {
            var g = RandomGenerator(seed: 0)
            let layer = try OPTDecoderLayer(dim: 16, heads: 4, ffnDim: 48, layerNormBefore: before, generator: &g)
            try load(layer, c)
            let y = try withNoGrad { try layer(x, keyPadding: padding) }
            assertClose(y.values, try expected(c).values, c)
        }
    }

    func testSinusoidalTable() throws {
        let expected = try tensor(Self.goldens["sinusoidal"]!)
        assertClose(try SinusoidalPositions.table(length: 64, dim: 24).values, expected.values, rel: 1e-5, abs: 2e-6, "positions")
        XCTAssertThrowsError(try SinusoidalPositions.table(length: 4, dim: 5))
    }

    func testLoadReportsMissingAndMismatchedParameters() throws {
        var g = RandomGenerator(seed: 0)
        let layer = try TransformerEncoderLayer(dim: 16, heads: 4, ffnDim: 32, generator: &g)
        var w = try weights("encoder_layer")
        w["linear1.bias"] = nil
        w["norm2.weight"] = nil
        XCTAssertThrowsError(try layer.load(w)) { error in
            XCTAssertEqual("\(error)", "missing parameters: linear1.bias, norm2.weight")
        }
        w = try weights("encoder_layer")
        w["linear2.weight"] = Tensor.zeros([16, 31])
        XCTAssertThrowsError(try layer.load(w)) { error in
            XCTAssertEqual("\(error)", "parameter linear2.weight: the model expects shape [16, 32], the weights have [16, 31]")
        }
    }

    /// Training through a whole layer: gradients exist for every parameter, and dropout with a
    /// seed is reproducible.
    func testLayerTrainsWithDropout() throws {
        var g = RandomGenerator(seed: 0)
        let layer = try TransformerDecoderLayer(dim: 16, heads: 4, ffnDim: 32, generator: &g)
        let run = { () throws -> Float in
            let y = try layer(self.x, memory: self.memory, keyPadding: self.padding, dropout: DropoutContext(probability: 0.1, seed: 5))
            let loss = try y.reshaped([10, 16]).crossEntropy(targets: [1, 2, 3, 4, 5, 6, 7, 8, 9, 0])
            try loss.backward()
            return try loss.item()
        }
        let first = try run()
        XCTAssertEqual(try run(), first)
        for (name, p) in layer.namedParameters {
            XCTAssertNotNil(p.grad, name)
            XCTAssertTrue(p.grad!.values.contains { $0 != 0 }, name)
        }
    }
}

final class InitializationTests: XCTestCase {
    func testRandomByDefaultAndSkippedForLoading() {
        var g = RandomGenerator(seed: 1)
        let random = Linear(8, 4, generator: &g)
        XCTAssertTrue(random.weight.values.contains { $0 != 0 })
        let blank = withoutRandomInitialization { Linear(8, 4, generator: &g) }
        XCTAssertEqual(blank.weight.values, [Float](repeating: 0, count: 32))
        XCTAssertTrue(blank.weight.requiresGrad, "still a trainable parameter")
        XCTAssertTrue(Linear(8, 4, generator: &g).weight.values.contains { $0 != 0 }, "the scope ends with the closure")
    }
}
