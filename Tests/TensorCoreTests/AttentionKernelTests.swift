import TestSupport
import XCTest
@testable import TensorCore

/// `Kernels.attentionScores`/`attentionMix` (the C kernels where the CPU runs them, and the Swift
/// loops) against a Double reference: head widths with and without a tail past the last 8 or 32
/// columns, key counts around the four-key step, rows wider than the head.
final class AttentionKernelTests: XCTestCase {
    func testScoresAndMixAgainstReference() {
        let saved = NativeKernels.enabled
        defer { NativeKernels.enabled = saved }
        var generator = RandomGenerator(seed: 3)
        for native in NativeKernels.supported ? [true, false] : [false] {
            NativeKernels.enabled = native
            for dim in [64, 13, 40, 8, 3] {
                for count in [1, 3, 4, 5, 9, 130] {
                    let stride = dim + 7
                    let q = Tensor.randn([dim], generator: &generator).values
                    let rows = Tensor.randn([count * stride], generator: &generator).values
                    let p = Tensor.uniform([count], low: 0, high: 1, generator: &generator).values
                    var scores = [Float](repeating: .nan, count: count)
                    var mixed = [Float](repeating: .nan, count: dim)
                    Kernels.attentionScores(q, keys: rows, stride: stride, count: count, dim: dim, scale: 0.125, into: &scores)
                    Kernels.attentionMix(p, values: rows, stride: stride, count: count, dim: dim, into: &mixed)
                    let expectedScores = (0..<count).map { j in
                        Float(0.125 * (0..<dim).reduce(0.0) { $0 + Double(q[$1]) * Double(rows[j * stride + $1]) })
                    }
                    let expectedMix = (0..<dim).map { c in
                        Float((0..<count).reduce(0.0) { $0 + Double(p[$1]) * Double(rows[$1 * stride + c]) })
                    }
                    assertClose(scores, expectedScores, rel: 1e-5, abs: 1e-5, "scores dim=\(dim) count=\(count) native=\(native)")
                    assertClose(mixed, expectedMix, rel: 1e-5, abs: 1e-5, "mix dim=\(dim) count=\(count) native=\(native)")
                }
            }
        }
    }
}
