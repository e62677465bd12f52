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
            // Fixed chunks summed in order: the same norm whatever the thread count.
            let chunk = 1 << 16
            let parts = (g.count + chunk - 1) / chunk
            var sums = [Double](repeating: 0, count: parts)
            sums.withUnsafeMutableBufferPointer { out in
                let (out, data) = (out, g.data)
                Threads.forEachChunk(parts, minimum: 1) { range in
                    for part in range {
                        var sum = 0.0
                        for j in (part * chunk)..<Swift.min((part + 1) * chunk, g.count) { sum += Double(data[j]) * Double(data[j]) }
                        out[part] = sum
                    }
                }
            }
            total += sums.reduce(0, +)
        }
        let norm = total.squareRoot()
        let coefficient = maxNorm / (norm + 1e-6)
        if coefficient < 1 {
            let c = Float(coefficient)
            for p in parameters {
                guard let g = p.grad else { continue }
                let data = g.data
                Threads.forEachChunk(g.count) { range in for j in range { data[j] *= c } }
            }
        }
        return norm
    }
}
