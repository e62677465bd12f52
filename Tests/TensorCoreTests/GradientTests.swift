import XCTest
@testable import TensorCore

/// Every op's backward against central finite differences, on seeded random shapes.
final class GradientTests: XCTestCase {
    /// Random shape with `rank` dimensions in 1...4.
    private func shape(_ rank: Int, _ generator: inout RandomGenerator) -> [Int] {
        (0..<rank).map { _ in 1 + generator.nextInt(below: 4) }
    }

    func testBroadcastingArithmetic() throws {
        var g = RandomGenerator(seed: 1)
        for trial in 0..<6 {
            let full = shape(3, &g)
            // b drops leading axes and has some axes of size 1.
            var small = Array(full.dropFirst(trial % 2))
            for i in small.indices where g.nextBernoulli(0.5) { small[i] = 1 }
            let a = randomTensor(full, seed: UInt64(10 + trial))
            let b = randomTensor(small, seed: UInt64(20 + trial))
            try assertGradients([a, b]) { try $0[0] + $0[1] }
            try assertGradients([a, b]) { try $0[0] - $0[1] }
            try assertGradients([a, b]) { try $0[0] * $0[1] }
            try assertGradients([b, a]) { try $0[0] * $0[1] }
            let positive = try b.detached() * b.detached() + 0.5
            try assertGradients([a, positive]) { try $0[0] / $0[1] }
        }
    }

    func testScalarOps() throws {
        let x = randomTensor([3, 5], seed: 2)
        try assertGradients([x]) { -$0[0] * 3 + 1.5 }
        try assertGradients([x]) { 2 - $0[0] / 4 }
    }

    func testReductions() throws {
        var g = RandomGenerator(seed: 3)
        for trial in 0..<4 {
            let s = shape(3, &g)
            let x = randomTensor(s, seed: UInt64(30 + trial))
            for axis in -3..<3 {
                try assertGradients([x]) { try $0[0].sum(axis: axis) }
                try assertGradients([x]) { try $0[0].mean(axis: axis, keepDims: true) }
            }
            // max needs values further apart than the step, or the difference crosses a tie.
            var order = Array(0..<x.count)
            order.shuffle(using: &g)
            let spaced = try Tensor(shape: s, values: order.map { Float($0) * 0.1 - 1 })
            for axis in -3..<3 {
                try assertGradients([spaced]) { try $0[0].max(axis: axis) }
            }
            try assertGradients([x]) { $0[0].sum() }
            try assertGradients([x]) { $0[0].mean() }
        }
    }

    func testBroadcastAndSumTo() throws {
        let x = randomTensor([3, 1, 2], seed: 4)
        try assertGradients([x]) { try $0[0].broadcast(to: [2, 3, 4, 2]) }
        let y = randomTensor([2, 3, 4, 2], seed: 5)
        try assertGradients([y]) { try $0[0].sum(to: [3, 1, 2]) }
    }

    func testShapeOps() throws {
        let x = randomTensor([2, 3, 4], seed: 6)
        try assertGradients([x]) { try $0[0].reshaped([4, -1]) }
        try assertGradients([x]) { try $0[0].transposed(0, 2) }
        try assertGradients([x]) { try $0[0].permuted([1, 2, 0]) }
        try assertGradients([x]) { try $0[0].permuted([0, 2, 1]) }
        try assertGradients([x]) { try $0[0].slice(axis: 0, 1..<2) }
        try assertGradients([x]) { try $0[0].slice(axis: 1, 1..<3) }
        try assertGradients([x]) { try $0[0].slice(axis: -1, 0..<3) }
        let y = randomTensor([2, 5, 4], seed: 7)
        try assertGradients([x, y]) { try Tensor.concat([$0[0], $0[1], $0[0]], axis: 1) }
    }

    func testMatmul() throws {
        let a = randomTensor([3, 4], seed: 8), b = randomTensor([4, 5], seed: 9)
        try assertGradients([a, b]) { try $0[0].matmul($0[1]) }
        let bt = randomTensor([5, 4], seed: 10)
        try assertGradients([a, bt]) { try $0[0].matmul($0[1], transposeOther: true) }
        // Batched with shared and with per-batch right operands; M = 1 and N = 1 (gemv paths).
        let x = randomTensor([2, 3, 3, 4], seed: 11)
        try assertGradients([x, b]) { try $0[0].matmul($0[1]) }
        let y = randomTensor([2, 3, 4, 2], seed: 12)
        try assertGradients([x, y]) { try $0[0].matmul($0[1]) }
        let yt = randomTensor([2, 3, 2, 4], seed: 13)
        try assertGradients([x, yt]) { try $0[0].matmul($0[1], transposeOther: true) }
        let row = randomTensor([1, 4], seed: 14), col = randomTensor([4, 1], seed: 15)
        try assertGradients([row, b]) { try $0[0].matmul($0[1]) }
        try assertGradients([a, col]) { try $0[0].matmul($0[1]) }
    }

    func testLinear() throws {
        let x = randomTensor([2, 3, 6], seed: 16)
        let w = randomTensor([4, 6], seed: 17), bias = randomTensor([4], seed: 18)
        try assertGradients([x, w, bias]) { try $0[0].linear(weight: $0[1], bias: $0[2]) }
        try assertGradients([x, w]) { try $0[0].linear(weight: $0[1]) }
        let one = randomTensor([1, 6], seed: 19)
        try assertGradients([one, w, bias]) { try $0[0].linear(weight: $0[1], bias: $0[2]) }
    }

    func testActivations() throws {
        let x = randomTensor([4, 7], seed: 20, scale: 2, margin: 0.05)
        try assertGradients([x]) { $0[0].relu() }
        try assertGradients([x]) { $0[0].gelu() }
        try assertGradients([x]) { $0[0].tanh() }
        try assertGradients([x]) { $0[0].exp() }
        let positive = try x.detached() * x.detached() + 0.5
        try assertGradients([positive]) { $0[0].log() }
    }

    func testSoftmaxWithMasks() throws {
        let x = randomTensor([2, 3, 5], seed: 21)
        try assertGradients([x]) { $0[0].softmax() }
        try assertGradients([x]) { $0[0].logSoftmax() }
        // Key-padding style boolean mask with one row fully masked.
        let mask = try Mask(shape: [2, 1, 5], values: [false, false, true, false, true,
                                                       true, true, true, true, true])
        try assertGradients([x]) { try $0[0].softmax(mask: mask) }
        try assertGradients([x]) { try $0[0].logSoftmax(mask: mask).maskedFill(mask, value: 0) }
        // Additive mask with −inf entries and finite biases; the mask gets a gradient too.
        let additive = try Tensor(shape: [3, 5], values: [0, -.infinity, 0.3, 0, -1,
                                                          -.infinity, -.infinity, -.infinity, -.infinity, -.infinity,
                                                          0.5, 0, 0, -.infinity, 0])
        try assertGradients([x]) { try $0[0].softmax(additiveMask: additive) }
        let finite = randomTensor([3, 5], seed: 22)
        try assertGradients([x, finite]) { try $0[0].softmax(additiveMask: $0[1]) }
    }

    func testLayerNorm() throws {
        let x = randomTensor([3, 8], seed: 23, scale: 2)
        let w = randomTensor([8], seed: 24), b = randomTensor([8], seed: 25)
        try assertGradients([x, w, b]) { try $0[0].layerNorm(weight: $0[1], bias: $0[2]) }
        try assertGradients([x]) { try $0[0].layerNorm(eps: 1e-3) }
    }

    func testEmbedding() throws {
        let table = randomTensor([6, 3], seed: 26)
        let ids = [2, 1, 2, 5, 0, 1]
        try assertGradients([table]) { try $0[0].embedding(ids: ids, idsShape: [2, 3]) }
        // The padding row gets no gradient even though it is looked up.
        table.requiresGrad = true
        table.zeroGrad()
        try table.embedding(ids: ids, paddingIndex: 1).sum().backward()
        XCTAssertEqual(Array(table.grad!.values[3..<6]), [0, 0, 0])
        XCTAssertEqual(Array(table.grad!.values[6..<9]), [2, 2, 2])
    }

    func testDropout() throws {
        let x = randomTensor([4, 6], seed: 27)
        try assertGradients([x]) { inputs in
            var generator = RandomGenerator(seed: 99)  // same mask on every evaluation
            return try inputs[0].dropout(0.4, training: true, generator: &generator)
        }
    }

    func testLosses() throws {
        let logits = randomTensor([5, 7], seed: 28, scale: 2)
        let targets = [0, 6, 3, 3, 1]
        let ignore = [false, false, true, false, false]
        try assertGradients([logits]) { try $0[0].crossEntropy(targets: targets, ignore: ignore) }
        try assertGradients([logits]) { try $0[0].focalLoss(targets: targets, ignore: ignore) }
        try assertGradients([logits]) { try $0[0].focalLoss(targets: targets, gamma: 1) }
    }

    /// A small two-layer network end to end: the chain through many ops at once.
    func testComposedNetwork() throws {
        let x = randomTensor([2, 4, 6], seed: 29)
        let w1 = randomTensor([8, 6], seed: 30, scale: 0.5), w2 = randomTensor([5, 8], seed: 31, scale: 0.5)
        let gamma = randomTensor([8], seed: 32)
        try assertGradients([x, w1, w2, gamma]) { p in
            let h = try p[0].linear(weight: p[1]).layerNorm(weight: p[3]).gelu()
            let scores = try h.matmul(h, transposeOther: true).softmax(mask: Mask.causal(4))
            return try scores.matmul(h).linear(weight: p[2]).logSoftmax()
        }
    }
}

/// The same checks on seeded random shapes (dimensions 1…5, so one-row and one-column cases come up).
final class RandomShapeGradientTests: XCTestCase {
    private var generator = RandomGenerator(seed: 2024)
    private func dim() -> Int { 1 + generator.nextInt(below: 5) }

    func testProductsOnRandomShapes() throws {
        for trial in 0..<8 {
            let (b, m, k, n) = (dim(), dim(), dim(), dim())
            let a = randomTensor([b, m, k], seed: UInt64(100 + trial))
            let w = randomTensor([n, k], seed: UInt64(200 + trial)), bias = randomTensor([n], seed: UInt64(300 + trial))
            try assertGradients([a, w, bias]) { try $0[0].linear(weight: $0[1], bias: $0[2]) }
            let other = randomTensor([b, k, n], seed: UInt64(400 + trial))
            try assertGradients([a, other]) { try $0[0].matmul($0[1]) }
            let keys = randomTensor([b, n, k], seed: UInt64(500 + trial))
            try assertGradients([a, keys]) { try $0[0].matmul($0[1], transposeOther: true) }
        }
    }

    func testMaskedSoftmaxAndLayerNormOnRandomShapes() throws {
        for trial in 0..<8 {
            let shape = [dim(), dim(), dim()]
            let x = randomTensor(shape, seed: UInt64(600 + trial))
            // A random key-padding-style mask [B, 1, T]; some rows end up fully masked.
            let values = (0..<(shape[0] * shape[2])).map { _ in generator.nextBernoulli(0.4) }
            let mask = try Mask(shape: [shape[0], 1, shape[2]], values: values)
            try assertGradients([x]) { try $0[0].softmax(mask: mask) }
            try assertGradients([x]) { try $0[0].logSoftmax(mask: mask).maskedFill(mask, value: 0) }
            let w = randomTensor([shape[2]], seed: UInt64(700 + trial)), b = randomTensor([shape[2]], seed: UInt64(800 + trial))
            if shape[2] > 1 {  // LayerNorm of one element is constant: nothing to differentiate
                try assertGradients([x, w, b]) { try $0[0].layerNorm(weight: $0[1], bias: $0[2]) }
            }
        }
    }

    func testShapeOpsOnRandomShapes() throws {
        for trial in 0..<8 {
            let shape = [dim(), dim(), dim()]
            let x = randomTensor(shape, seed: UInt64(900 + trial))
            var order = [0, 1, 2]
            order.shuffle(using: &generator)
            try assertGradients([x]) { try $0[0].permuted(order) }
            let axis = generator.nextInt(below: 3)
            let start = generator.nextInt(below: shape[axis])
            try assertGradients([x]) { try $0[0].slice(axis: axis, start..<shape[axis]) }
            try assertGradients([x, x.copy()]) { try Tensor.concat([$0[0], $0[1]], axis: axis) }
            try assertGradients([x]) { try $0[0].reshaped([-1]) }
        }
    }
}
