/// LayerNorm over the last axis, one row at a time, two-pass (mean, then variance) for accuracy.
extension Kernels {
    /// Normalises `x` into `out`, applies `gamma`/`beta` when given, and returns (mean, 1/σ) for
    /// the backward pass. Biased variance, as PyTorch.
    @discardableResult
    public static func layerNormRow(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int,
        gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, eps: Float
    ) -> (mean: Float, rstd: Float) {
        let mean = sum(x, count: n) / Float(n)
        var acc = FloatVector()
        var i = 0
        while i + 16 <= n {
            let d = loadVector(x + i) - mean
            acc += d * d
            i += 16
        }
        var variance = acc.sum()
        while i < n {
            let d = x[i] - mean
            variance += d * d
            i += 1
        }
        variance /= Float(n)
        let rstd = 1 / (variance + eps).squareRoot()
        affine(x, scale: rstd, shift: -mean * rstd, out, count: n)
        if let gamma { mul(out, gamma, out, count: n) }
        if let beta { add(out, beta, out, count: n) }
        return (mean, rstd)
    }
}
