import TensorCore

/// `torch.nn.utils.clip_grad_norm_`: the L2 norm over every gradient together; when it exceeds
/// `maxNorm`, every gradient is scaled by `maxNorm / (norm + 1e-6)`. Returns the norm before
/// clipping (what training logs). Parameters without a gradient are left out, as in PyTorch.
public enum GradientClipping {
    @discardableResult
    public static func clip(_ parameters: [Tensor], maxNorm: Double) -> Double {
        var total = 0.0
        for p in parameters {
            guard let g = p.grad else { continue }
            var sum = 0.0
            for j in 0..<g.count { sum += Double(g.data[j]) * Double(g.data[j]) }
            total += sum
        }
        let norm = total.squareRoot()
        let coefficient = maxNorm / (norm + 1e-6)
        if coefficient < 1 {
            let c = Float(coefficient)
            for p in parameters { if let g = p.grad { for j in 0..<g.count { g.data[j] *= c } } }
        }
        return norm
    }
}
