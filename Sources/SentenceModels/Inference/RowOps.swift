import NeuralNet
import TensorCore

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

    /// Token rows `[n, width]` into `x`: embedding lookup (ids checked against the vocabulary),
    /// then `project_in` when the embedding is narrower than the model (through `scratch`).
    static func embed(_ tokens: UnsafeBufferPointer<Int>, table: Embedding, projectIn: Linear?,
                      scratch: ScratchBuffer, into x: UnsafeMutablePointer<Float>) throws {
        let vocabulary = table.weight.shape[0], embedWidth = table.weight.shape[1]
        let embedded = projectIn == nil ? x : scratch.reserve(tokens.count * embedWidth)
        for (i, id) in tokens.enumerated() {
            guard id >= 0 && id < vocabulary else { throw TensorError.tokenOutOfRange(id: id, vocabularySize: vocabulary) }
            (embedded + i * embedWidth).update(from: table.weight.data + id * embedWidth, count: embedWidth)
        }
        if let projectIn { linear(projectIn, embedded, rows: tokens.count, x) }
    }

    /// `x += y` over `count` floats.
    static func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        Kernels.add(x, y, x, count: count)
    }
}
