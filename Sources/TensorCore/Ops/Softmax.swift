/// Softmax and log-softmax along the last axis, optionally masked.
///
/// Masked elements (boolean `true`, or an additive mask of −inf) get probability 0. A row with
/// every element masked does not give NaN as PyTorch does: softmax gives all zeros there (and a
/// zero gradient), log-softmax gives −inf for every element (and a zero gradient).
extension Tensor {
    /// A function of each last-axis row whose backward needs only its output: (y, gy) → gx.
    private func rowwise(
        _ op: String, _ forward: @escaping (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
        backward: @escaping (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    ) -> Tensor {
        let n = shape.last ?? 1
        let rows = n == 0 ? 0 : count / n
        let out = Tensor(uninitializedShape: shape)
        for r in 0..<rows { forward(data + r * n, out.data + r * n, n) }
        return Tensor.record(out, op: op, inputs: [self]) { g in
            let gx = Tensor(uninitializedShape: out.shape)
            for r in 0..<rows { backward(out.data + r * n, g.data + r * n, gx.data + r * n, n) }
            return [gx]
        }
    }

    public func softmax() -> Tensor {
        rowwise("softmax", { Kernels.softmaxRow($0, $1, count: $2) }, backward: { Kernels.softmaxBackwardRow($0, $1, $2, count: $3) })
    }

    public func logSoftmax() -> Tensor {
        rowwise("logSoftmax", { Kernels.logSoftmaxRow($0, $1, count: $2) }, backward: { Kernels.logSoftmaxBackwardRow($0, $1, $2, count: $3) })
    }

    /// Softmax with the `true` elements of `mask` excluded.
    public func softmax(mask: Mask) throws -> Tensor {
        try maskedFill(mask, value: -.infinity).softmax()
    }

    /// Softmax of `self + additiveMask` (0 keeps, −inf excludes, other values bias).
    public func softmax(additiveMask: Tensor) throws -> Tensor {
        try (self + additiveMask).softmax()
    }

    public func logSoftmax(mask: Mask) throws -> Tensor {
        try maskedFill(mask, value: -.infinity).logSoftmax()
    }

    public func logSoftmax(additiveMask: Tensor) throws -> Tensor {
        try (self + additiveMask).logSoftmax()
    }
}
