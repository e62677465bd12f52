/// LayerNorm over the last axis with optional affine weight/bias (PyTorch `nn.LayerNorm`).
extension Tensor {
    public func layerNorm(weight: Tensor? = nil, bias: Tensor? = nil, eps: Float = 1e-5) throws -> Tensor {
        let n = shape.last ?? 0
        guard n > 0 else {
            throw TensorError.invalidShape(op: "layerNorm", shape: shape, reason: "the last axis must not be empty")
        }
        for p in [weight, bias].compactMap({ $0 }) where p.shape != [n] {
            throw TensorError.shapeMismatch(op: "layerNorm (weight/bias must be [\(n)])", lhs: shape, rhs: p.shape)
        }
        let rows = count / n
        let out = Tensor(uninitializedShape: shape)
        var stats = [(mean: Float, rstd: Float)](repeating: (0, 0), count: rows)
        for r in 0..<rows {
            stats[r] = Kernels.layerNormRow(data + r * n, out.data + r * n, count: n,
                                            gamma: weight?.data, beta: bias?.data, eps: eps)
        }
        let x = self
        let inputs = [x] + [weight, bias].compactMap { $0 }
        return Tensor.record(out, op: "layerNorm", inputs: inputs) { g in
            // x̂ = (x − μ)·r;  dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·γ.
            let gx = Tensor(uninitializedShape: x.shape)
            let gw = Tensor.zeros([n]), gb = Tensor.zeros([n])
            var xhat = [Float](repeating: 0, count: n), ghat = [Float](repeating: 0, count: n)
            for r in 0..<rows {
                let (mean, rstd) = stats[r]
                let xr = x.data + r * n, gr = g.data + r * n
                var meanG: Float = 0, meanGX: Float = 0
                for j in 0..<n {
                    xhat[j] = (xr[j] - mean) * rstd
                    ghat[j] = gr[j] * (weight?.data[j] ?? 1)
                    meanG += ghat[j]
                    meanGX += ghat[j] * xhat[j]
                    gw.data[j] += gr[j] * xhat[j]
                    gb.data[j] += gr[j]
                }
                meanG /= Float(n)
                meanGX /= Float(n)
                for j in 0..<n { gx.data[r * n + j] = rstd * (ghat[j] - meanG - xhat[j] * meanGX) }
            }
            return [gx] + (weight != nil ? [gw] : []) + (bias != nil ? [gb] : [])
        }
    }
}
