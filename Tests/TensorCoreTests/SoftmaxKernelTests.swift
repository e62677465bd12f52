import Foundation
import XCTest
@testable import TensorCore

/// The softmax row kernels and their exp against double-precision references.
final class SoftmaxKernelTests: XCTestCase {
    func testExpOfNonPositiveInputsIsWithinTwoTenthsOfAMicroOfLibm() {
        var worst = 0.0
        var x: Float = -87
        while x <= 0 {
            let lanes = (0..<16).map { x - Float($0) * 1e-3 }
            let got = vectorExpNonPositive(FloatVector(lanes))
            for (lane, value) in lanes.enumerated() where value > -87 {
                let want = Foundation.exp(Double(value))
                worst = Swift.max(worst, abs(Double(got[lane]) - want) / want)
            }
            x += 0.0137
        }
        XCTAssertLessThanOrEqual(worst, 2e-7)
        let edges = vectorExpNonPositive(FloatVector([0, -0.0, -87.4, -100, -.infinity, -1e30, -1, -0.5, 0, 0, 0, 0, 0, 0, 0, 0]))
        XCTAssertEqual(edges[0], 1)
        XCTAssertEqual(edges[1], 1)
        for lane in 2...5 { XCTAssertEqual(edges[lane], 0, "lane \(lane)") }
        XCTAssertEqual(Double(edges[6]), Foundation.exp(-1.0), accuracy: 1e-7)
    }

    /// The loops written out by hand (ReLU, its backward, softmax's backward) over two whole vectors
    /// and a tail, against the scalar definitions.
    func testHandWrittenLoopsMatchTheirScalarDefinitions() {
        var generator = RandomGenerator(seed: 11)
        let n = 37
        var x = Tensor.randn([n], generator: &generator).values
        x[3] = 0; x[20] = 0; x[35] = 0                 // ReLU's kink, in both loops
        let g = Tensor.randn([n], generator: &generator).values
        var relu = [Float](repeating: .nan, count: n), back = relu, soft = relu
        x.withUnsafeBufferPointer { xp in
            g.withUnsafeBufferPointer { gp in
                relu.withUnsafeMutableBufferPointer { Kernels.relu(xp.baseAddress!, $0.baseAddress!, count: n) }
                back.withUnsafeMutableBufferPointer { Kernels.reluBackward(xp.baseAddress!, gp.baseAddress!, $0.baseAddress!, count: n) }
                soft.withUnsafeMutableBufferPointer { Kernels.softmaxBackwardRow(xp.baseAddress!, gp.baseAddress!, $0.baseAddress!, count: n) }
            }
        }
        let inner = zip(x, g).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        for i in 0..<n {
            XCTAssertEqual(relu[i], Swift.max(x[i], 0), "relu \(i)")
            XCTAssertEqual(back[i], x[i] > 0 ? g[i] : 0, "reluBackward \(i)")
            XCTAssertEqual(soft[i], x[i] * (g[i] - inner), accuracy: 1e-5, "softmaxBackwardRow \(i)")
        }
    }

    func testSoftmaxRowMatchesADoubleReference() {
        var generator = RandomGenerator(seed: 7)
        // A vocabulary-sized row (not a multiple of 16, so the scalar tail runs) with masked entries.
        let n = 50_275
        var logits = Tensor.randn([n], std: 3, generator: &generator).values
        for i in stride(from: 5, to: n, by: 997) { logits[i] = -.infinity }
        let m = Double(logits.max()!)
        let total = logits.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }
        var out = [Float](repeating: .nan, count: n)
        var logOut = [Float](repeating: .nan, count: n)
        logits.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { Kernels.softmaxRow(x.baseAddress!, $0.baseAddress!, count: n) }
            logOut.withUnsafeMutableBufferPointer { Kernels.logSoftmaxRow(x.baseAddress!, $0.baseAddress!, count: n) }
        }
        for i in 0..<n {
            let want = Foundation.exp(Double(logits[i]) - m) / total
            if logits[i] == -.infinity {
                XCTAssertEqual(out[i], 0)
                XCTAssertEqual(logOut[i], -.infinity)
                continue
            }
            // 1e-5: the fp32 sum of 50k terms (16 lanes of ~3k each) carries a few 1e-6 of relative error.
            guard abs(Double(out[i]) - want) <= 1e-5 * want, abs(Double(logOut[i]) - Foundation.log(want)) <= 1e-5 * Swift.max(1, abs(Foundation.log(want))) else {
                XCTFail("element \(i): softmax \(out[i]) log-softmax \(logOut[i]), expected \(want) and \(Foundation.log(want))")
                return
            }
        }
    }

    func testFullyMaskedRowGivesZerosNotNaN() {
        let n = 40
        let logits = [Float](repeating: -.infinity, count: n)
        var out = [Float](repeating: .nan, count: n)
        logits.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { Kernels.softmaxRow(x.baseAddress!, $0.baseAddress!, count: n) }
        }
        XCTAssertEqual(out, [Float](repeating: 0, count: n))
    }
}
