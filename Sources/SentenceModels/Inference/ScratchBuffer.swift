import TensorCore
import NeuralNet

/// A grow-only Float32 buffer. Inference keeps a few of these per model: the first (longest)
/// call sizes them, and every later decoding step reuses them, so generating a token allocates
/// nothing.
final class ScratchBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        pointer = .allocate(capacity: self.capacity)
    }

    deinit { pointer.deallocate() }

    /// At least `count` floats (contents are not preserved when it grows).
    @discardableResult
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = count
            pointer = .allocate(capacity: count)
        }
        return pointer
    }
}

/// Row-wise helpers over raw buffers, shared by the cached inference paths.
enum RowOps {
    /// `out[n, outF] = x[n, inF]·Wᵀ + b` for a `Linear` (sgemv when n = 1).
    static func linear(_ layer: Linear, _ x: UnsafePointer<Float>, rows n: Int, _ out: UnsafeMutablePointer<Float>) {
        linear(weight: layer.weight.data, bias: layer.bias?.data, inFeatures: layer.weight.shape[1],
               outFeatures: layer.weight.shape[0], x, rows: n, out)
    }

    static func linear(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, inFeatures: Int, outFeatures: Int,
                       _ x: UnsafePointer<Float>, rows n: Int, _ out: UnsafeMutablePointer<Float>) {
        if let bias {
            for r in 0..<n { (out + r * outFeatures).update(from: bias, count: outFeatures) }
        }
        BLAS.gemm(transA: false, transB: true, m: n, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                  b: weight, ldb: inFeatures, c: out, ldc: outFeatures, accumulate: bias != nil)
    }

    /// LayerNorm of each row in place.
    static func layerNorm(_ norm: LayerNorm, _ x: UnsafeMutablePointer<Float>, rows n: Int) {
        let dim = norm.weight.count
        for r in 0..<n {
            Kernels.layerNormRow(x + r * dim, x + r * dim, count: dim, gamma: norm.weight.data, beta: norm.bias.data, eps: norm.eps)
        }
    }

    /// `x += y` over `count` floats.
    static func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        Kernels.add(x, y, x, count: count)
    }
}
