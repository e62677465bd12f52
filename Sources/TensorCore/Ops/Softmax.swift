/// Softmax and log-softmax along the last axis, optionally masked.
///
/// Masked elements (boolean `true`, or an additive mask of −inf) get probability 0. A row with
/// every element masked does not give NaN as PyTorch does: softmax gives all zeros there (and a
/// zero gradient), log-softmax gives −inf for every element (and a zero gradient).
extension Tensor {
    public func softmax() -> Tensor {
        let x = self
        let n = shape.last ?? 1
        let rows = n == 0 ? 0 : count / n
        let out = Tensor(uninitializedShape: shape)
        for r in 0..<rows { Kernels.softmaxRow(x.data + r * n, out.data + r * n, count: n) }
        return Tensor.record(out, op: "softmax", inputs: [x]) { g in
            let gx = Tensor(uninitializedShape: out.shape)
            for r in 0..<rows { Kernels.softmaxBackwardRow(out.data + r * n, g.data + r * n, gx.data + r * n, count: n) }
            return [gx]
        }
    }

    public func logSoftmax() -> Tensor {
        let x = self
        let n = shape.last ?? 1
        let rows = n == 0 ? 0 : count / n
        let out = Tensor(uninitializedShape: shape)
        for r in 0..<rows { Kernels.logSoftmaxRow(x.data + r * n, out.data + r * n, count: n) }
        return Tensor.record(out, op: "logSoftmax", inputs: [x]) { g in
            let gx = Tensor(uninitializedShape: out.shape)
            for r in 0..<rows { Kernels.logSoftmaxBackwardRow(out.data + r * n, g.data + r * n, gx.data + r * n, count: n) }
            return [gx]
        }
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
