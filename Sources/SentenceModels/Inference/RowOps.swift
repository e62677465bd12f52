import NeuralNet
import TensorCore

/// Row-wise helpers over raw buffers, shared by the cached inference paths.
enum RowOps {
    /// The ReLU feed-forward of every layer here (OPT's fc1/fc2, the SVAE's linear1/linear2):
    /// `out = linear2(relu(linear1(x)))` over `n` rows, the hidden rows in `scratch`.
    static func feedForward(_ linear1: InferenceLinear, _ linear2: InferenceLinear, _ x: UnsafePointer<Float>, rows n: Int,
                            scratch: ScratchBuffer, into out: UnsafeMutablePointer<Float>) {
        let hidden = scratch.reserve(n * linear1.outFeatures)
        linear1(x, rows: n, hidden)
        Kernels.relu(hidden, hidden, count: n * linear1.outFeatures)
        linear2(hidden, rows: n, out)
    }

    /// LayerNorm of each row in place.
    static func layerNorm(_ norm: LayerNorm, _ x: UnsafeMutablePointer<Float>, rows n: Int) {
        layerNorm(norm, x, into: x, rows: n)
    }

    /// LayerNorm of each row of `x` into `out` (which may be `x`).
    static func layerNorm(_ norm: LayerNorm, _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows n: Int) {
        let dim = norm.weight.count
        for r in 0..<n {
            Kernels.layerNormRow(x + r * dim, out + r * dim, count: dim, gamma: norm.weight.data, beta: norm.bias.data, eps: norm.eps)
        }
    }

    /// Token rows `[n, width]` into `x`: embedding lookup (ids checked against the vocabulary; a
    /// compact table widens just the rows it is asked for), then `project_in` when the embedding is
    /// narrower than the model (through `scratch`).
    static func embed(_ tokens: UnsafeBufferPointer<Int>, table: WeightMatrix, projectIn: InferenceLinear?,
                      scratch: ScratchBuffer, into x: UnsafeMutablePointer<Float>) throws {
        let vocabulary = table.rows, embedWidth = table.columns
        let embedded = projectIn == nil ? x : scratch.reserve(tokens.count * embedWidth)
        for i in 0..<tokens.count {
            let id = tokens[i]
            guard id >= 0 && id < vocabulary else { throw TensorError.tokenOutOfRange(id: id, vocabularySize: vocabulary) }
            table.row(id, into: embedded + i * embedWidth)
        }
        if let projectIn { projectIn(embedded, rows: tokens.count, x) }
    }

    /// `x += y` over `count` floats.
    static func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        Kernels.add(x, y, x, count: count)
    }
}
