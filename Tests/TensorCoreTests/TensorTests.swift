import Foundation
import TestSupport
import XCTest
@testable import TensorCore

/// Creation, views, forward semantics of shape ops and broadcasting, seeded randomness, errors.
final class TensorTests: XCTestCase {
    func testCreation() throws {
        XCTAssertEqual(Tensor.zeros([2, 3]).values, [Float](repeating: 0, count: 6))
        XCTAssertEqual(Tensor.ones([2]).values, [1, 1])
        XCTAssertEqual(Tensor.arange(4).values, [0, 1, 2, 3])
        XCTAssertEqual(try Tensor(shape: [2, 2], values: [1, 2, 3, 4]).values, [1, 2, 3, 4])
        XCTAssertEqual(try Tensor(scalar: 3).item(), 3)
    }

    func testReshapeAndLeadingSliceAreViews() throws {
        let x = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let r = try x.reshaped([3, -1])
        XCTAssertEqual(r.shape, [3, 2])
        XCTAssertTrue(r.storage === x.storage)
        let s = try x.slice(axis: 0, 1..<2)
        XCTAssertTrue(s.storage === x.storage)
        XCTAssertEqual(s.values, [4, 5, 6])
        XCTAssertEqual(try x.slice(axis: 1, 1..<3).values, [2, 3, 5, 6])
    }

    func testPermuteTransposeConcat() throws {
        let x = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try x.transposed().values, [1, 4, 2, 5, 3, 6])
        let y = try Tensor(shape: [2, 1, 2], values: [1, 2, 3, 4])
        XCTAssertEqual(try y.permuted([2, 0, 1]).values, [1, 3, 2, 4])
        XCTAssertEqual(try Tensor.concat([x, x], axis: 1).values, [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
    }

    func testBroadcastingForward() throws {
        let a = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let row = try Tensor(shape: [3], values: [10, 20, 30])
        let col = try Tensor(shape: [2, 1], values: [100, 200])
        XCTAssertEqual(try (a + row).values, [11, 22, 33, 14, 25, 36])
        XCTAssertEqual(try (a * col).values, [100, 200, 300, 800, 1000, 1200])
        XCTAssertEqual(try (col - row).values, [90, 80, 70, 190, 180, 170])
        XCTAssertEqual(try a.sum(axis: 0).values, [5, 7, 9])
        XCTAssertEqual(try a.max(axis: -1, keepDims: true).values, [3, 6])
        XCTAssertEqual(try a.mean(axis: 1).values, [2, 5])
    }

    func testSeededRandomIsReproducibleAndWellDistributed() {
        var g1 = RandomGenerator(seed: 42), g2 = RandomGenerator(seed: 42)
        let a = Tensor.randn([10_000], generator: &g1), b = Tensor.randn([10_000], generator: &g2)
        XCTAssertEqual(a.values, b.values)
        let mean = a.values.reduce(0, +) / 10_000
        let variance = a.values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 10_000
        XCTAssertEqual(mean, 0, accuracy: 0.05)
        XCTAssertEqual(variance, 1, accuracy: 0.05)
        let u = Tensor.uniform([10_000], low: -2, high: 2, generator: &g1)
        XCTAssertTrue(u.values.allSatisfy { $0 >= -2 && $0 < 2 })
        let ones = (0..<10_000).filter { _ in g1.nextBernoulli(0.3) }.count
        XCTAssertEqual(Double(ones) / 10_000, 0.3, accuracy: 0.02)
        // Fixed first draws pin the algorithm: a change here changes every seeded run.
        var g3 = RandomGenerator(seed: 0)
        XCTAssertEqual(g3.next(), 0x99EC_5F36_CB75_F2B4)
    }

    func testDropoutIsIdentityInEvalAndScaledInTraining() throws {
        var g = RandomGenerator(seed: 1)
        let x = Tensor.ones([1000])
        XCTAssertTrue(try x.dropout(0.5, training: false, generator: &g) === x)
        let y = try x.dropout(0.25, training: true, generator: &g)
        XCTAssertTrue(y.values.allSatisfy { $0 == 0 || abs($0 - 1 / 0.75) < 1e-6 })
        XCTAssertEqual(Double(y.values.filter { $0 == 0 }.count) / 1000, 0.25, accuracy: 0.05)
        XCTAssertThrowsError(try x.dropout(1, training: true, generator: &g))
    }

    func testErrorsNameWhatIsWrong() throws {
        let a = Tensor.zeros([2, 3]), b = Tensor.zeros([4, 5])
        XCTAssertThrowsError(try a + b) { error in
            XCTAssertEqual("\(error)", "add: shapes [2, 3] and [4, 5] do not match")
        }
        XCTAssertThrowsError(try a.matmul(b)) { error in
            XCTAssertTrue("\(error)".contains("[2, 3]") && "\(error)".contains("[4, 5]"), "\(error)")
        }
        XCTAssertThrowsError(try a.linear(weight: b)) { error in
            XCTAssertTrue("\(error)".contains("[2, 3]") && "\(error)".contains("[4, 5]"), "\(error)")
        }
        let table = Tensor.zeros([10, 4])
        XCTAssertThrowsError(try table.embedding(ids: [3, 12])) { error in
            XCTAssertEqual("\(error)", "token id 12 is out of range for a vocabulary of 10 tokens (valid ids: 0...9)")
        }
        XCTAssertThrowsError(try table.embedding(ids: [-1]))
        XCTAssertThrowsError(try a.reshaped([4, -1])) { error in
            XCTAssertTrue("\(error)".contains("6 elements"), "\(error)")
        }
        XCTAssertThrowsError(try a.sum(axis: 2)) { error in
            XCTAssertEqual(error as? TensorError, .axisOutOfRange(op: "sum(axis:)", axis: 2, rank: 2))
        }
        XCTAssertThrowsError(try a.slice(axis: 1, 1..<5))
        XCTAssertThrowsError(try Tensor(shape: [2, 2], values: [1, 2, 3]))
        XCTAssertThrowsError(try a.crossEntropy(targets: [0, 7])) { error in
            XCTAssertTrue("\(error)".contains("7"), "\(error)")
        }
        XCTAssertThrowsError(try a.crossEntropy(targets: [0]))
        XCTAssertThrowsError(try Tensor.concat([a, b], axis: 0))
        XCTAssertThrowsError(try a.softmax(mask: Mask(shape: [3, 3], values: [Bool](repeating: false, count: 9))))
    }

    func testLossOfOnlyIgnoredRowsIsZero() throws {
        let logits = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6], requiresGrad: true)
        let loss = try logits.crossEntropy(targets: [0, 1], ignore: [true, true])
        XCTAssertEqual(try loss.item(), 0)
        try loss.backward()
        XCTAssertEqual(logits.grad!.values, [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(try logits.focalLoss(targets: [0, 1], ignore: [true, true]).item(), 0)
    }
}

/// The vectorised exp against libm over the whole float range it handles, edges included.
final class KernelAccuracyTests: XCTestCase {
    func testVectorExpMatchesLibm() {
        var xs: [Float] = [-.infinity, -1000, -103, -87.4, -87.3, -20, -1, -1e-7, 0, 1e-7, 0.5, 1, 10, 88, 88.37, 88.5, 88.72, 88.73, 100, .infinity]
        var g = RandomGenerator(seed: 3)
        for _ in 0..<4000 { xs.append(-87 + 175.7 * g.nextUniform()) }
        while xs.count % 16 != 0 { xs.append(0) }
        var out = [Float](repeating: .nan, count: xs.count)
        Kernels.exp(xs, &out, count: xs.count)
        for (x, y) in zip(xs, out) {
            let expected = Float(Foundation.exp(Double(x)))
            if x < -87.336_54 {
                XCTAssertEqual(y, 0, "exp(\(x))")
            } else if expected.isInfinite {
                XCTAssertEqual(y, .infinity, "exp(\(x))")
            } else {
                XCTAssertEqual(y, expected, accuracy: 3 * expected.ulp, "exp(\(x))")
            }
        }
    }
}
