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

    /// The row-order kernels (every head of a cache row at once): heads × dim with and without
    /// tails, rows wider than the heads, the scores written `ld` apart.
    func testRowKernelsAgainstReference() {
        let saved = NativeKernels.enabled
        defer { NativeKernels.enabled = saved }
        var generator = RandomGenerator(seed: 5)
        for native in NativeKernels.supported ? [true, false] : [false] {
            NativeKernels.enabled = native
            for (heads, dim) in [(12, 64), (3, 13), (2, 40), (1, 8), (4, 3)] {
                for count in [1, 2, 5, 33] {
                    let stride = heads * dim + 5, ld = count + 3
                    let q = Tensor.randn([heads * dim], generator: &generator).values
                    let rows = Tensor.randn([count * stride], generator: &generator).values
                    let p = Tensor.uniform([heads * ld], low: 0, high: 1, generator: &generator).values
                    var scores = [Float](repeating: .nan, count: heads * ld)
                    var mixed = [Float](repeating: .nan, count: heads * dim)
                    Kernels.attentionScoresRows(q, keys: rows, stride: stride, heads: heads, dim: dim, count: count, scale: 0.125,
                                                into: &scores, ld: ld)
                    Kernels.attentionMixRows(p, values: rows, stride: stride, heads: heads, dim: dim, count: count, ld: ld, into: &mixed)
                    for h in 0..<heads {
                        let got = (0..<count).map { scores[h * ld + $0] }
                        let expected = (0..<count).map { j in
                            Float(0.125 * (0..<dim).reduce(0.0) { $0 + Double(q[h * dim + $1]) * Double(rows[j * stride + h * dim + $1]) })
                        }
                        assertClose(got, expected, rel: 1e-5, abs: 1e-5, "scores heads=\(heads) dim=\(dim) count=\(count) h=\(h) native=\(native)")
                    }
                    let expectedMix = (0..<(heads * dim)).map { c in
                        Float((0..<count).reduce(0.0) { $0 + Double(p[(c / dim) * ld + $1]) * Double(rows[$1 * stride + c]) })
                    }
                    assertClose(mixed, expectedMix, rel: 1e-5, abs: 1e-5, "mix heads=\(heads) dim=\(dim) count=\(count) native=\(native)")
                }
            }
        }
    }

    func testSoftmaxRowStatistics() {
        let x: [Float] = [0.5, -1, 2, 2, -.infinity, 0]
        var out = [Float](repeating: .nan, count: x.count)
        let (top, total) = Kernels.softmaxRowStatistics(x, &out, count: x.count)
        XCTAssertEqual(top, 2)
        let expected = x.map { Foundation.exp(Double($0) - 2) }.reduce(0, +)
        XCTAssertEqual(Double(total), expected, accuracy: 1e-6)
        assertClose(out, x.map { Float(Foundation.exp(Double($0) - 2) / expected) }, rel: 1e-6, abs: 1e-7, "softmax")
        let masked: [Float] = [-.infinity, -.infinity]
        var zeros: [Float] = [.nan, .nan]
        let none = Kernels.softmaxRowStatistics(masked, &zeros, count: 2)
        XCTAssertEqual(none.max, -.infinity)
        XCTAssertEqual(none.total, 0)
        XCTAssertEqual(zeros, [0, 0])
    }
}
