import TestSupport
import XCTest
@testable import TensorCore

/// Central finite differences for any op: the scalar probed is `Σ f(x)·w` with fixed random
/// weights `w`, accumulated in Double so rounding in the sum does not swamp the difference.
/// Float32 inputs, step `h` = 5e-3: tolerance |analytic − numeric| ≤ 2e-3 + 1e-2·|numeric|.
func assertGradients(
    _ inputs: [Tensor], seed: UInt64 = 7, step h: Float = 5e-3,
    absTolerance: Float = 2e-3, relTolerance: Float = 1e-2,
    file: StaticString = #filePath, line: UInt = #line,
    _ f: ([Tensor]) throws -> Tensor
) throws {
    for x in inputs { x.requiresGrad = true; x.zeroGrad() }
    let out = try f(inputs)
    var generator = RandomGenerator(seed: seed)
    let weights = Tensor.randn(out.shape, generator: &generator)
    try (out * weights).sum().backward()

    func probe() throws -> Double {
        let y = try withNoGrad { try f(inputs) }
        var total: Double = 0
        for i in 0..<y.count { total += Double(y.data[i]) * Double(weights.data[i]) }
        return total
    }

    for (which, x) in inputs.enumerated() {
        let analytic = x.grad
        XCTAssertNotNil(analytic, "input \(which) got no gradient", file: file, line: line)
        guard let analytic else { continue }
        XCTAssertEqual(analytic.shape, x.shape, file: file, line: line)
        for i in 0..<x.count {
            let saved = x.data[i]
            x.data[i] = saved + h
            let plus = try probe()
            x.data[i] = saved - h
            let minus = try probe()
            x.data[i] = saved
            let numeric = Float((plus - minus) / Double(2 * h))
            let error = abs(analytic.data[i] - numeric)
            XCTAssertLessThanOrEqual(error, absTolerance + relTolerance * abs(numeric),
                                     "input \(which) element \(i): analytic \(analytic.data[i]) vs numeric \(numeric)",
                                     file: file, line: line)
        }
    }
}

/// A tensor of normal samples from a seed, with values kept away from 0 (`margin`) where an op
/// has a kink there (ReLU, max), so a finite-difference step never crosses it.
func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1, margin: Float = 0) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    let t = Tensor.randn(shape, std: scale, generator: &generator)
    if margin > 0 {
        for i in 0..<t.count where abs(t.data[i]) < margin { t.data[i] = t.data[i] < 0 ? -margin : margin }
    }
    return t
}
