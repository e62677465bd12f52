import Foundation
import TensorCore

/// `torch.optim.AdamW` (single-tensor path): decoupled weight decay, then Adam with bias
/// correction. Scalars are computed in Double as Python does, element updates in Float.
///
/// Only trainable parameters are given to it; a frozen parameter has no moment buffers. A
/// parameter whose gradient is `nil` after a backward pass is skipped entirely, weight decay
/// included, as PyTorch skips parameters whose `.grad` is None.
public final class AdamW {
    public struct Hyperparameters: Equatable, Sendable {
        public var beta1: Double = 0.9
        public var beta2: Double = 0.999
        public var eps: Double = 1e-8
        public var weightDecay: Double = 0.01
        public init() {}
    }

    public let parameters: [(name: String, tensor: Tensor)]
    public let hyper: Hyperparameters
    /// First and second moments, one buffer per parameter (same order).
    public private(set) var exp: [Tensor]
    public private(set) var expSquared: [Tensor]
    /// Optimizer steps taken per parameter (PyTorch keeps `step` per parameter).
    public private(set) var steps: [Int]

    public init(parameters: [(name: String, tensor: Tensor)], hyper: Hyperparameters = .init()) {
        self.parameters = parameters
        self.hyper = hyper
        exp = parameters.map { Tensor.zeros($0.tensor.shape) }
        expSquared = parameters.map { Tensor.zeros($0.tensor.shape) }
        steps = parameters.map { _ in 0 }
    }

    /// One update with learning rate `lr` from the parameters' current `grad`.
    public func step(lr: Double) {
        let (b1, b2) = (hyper.beta1, hyper.beta2)
        for (i, (_, p)) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            steps[i] += 1
            let t = Double(steps[i])
            let decay = Float(1 - lr * hyper.weightDecay)
            let stepSize = Float(lr / (1 - pow(b1, t)))
            let correction2 = Float((1 - pow(b2, t)).squareRoot())
            let (oneMinusB1, b2f, oneMinusB2, eps) = (Float(1 - b1), Float(b2), Float(1 - b2), Float(hyper.eps))
            let (w, gd, m, v) = (p.data, g.data, exp[i].data, expSquared[i].data)
            Threads.forEachChunk(p.count) { range in
                for j in range {
                    w[j] *= decay
                    m[j] += oneMinusB1 * (gd[j] - m[j])
                    v[j] = v[j] * b2f + oneMinusB2 * gd[j] * gd[j]
                    let denom = v[j].squareRoot() / correction2 + eps
                    w[j] -= stepSize * (m[j] / denom)
                }
            }
        }
    }

    /// Puts saved moments and step counts back (resume). Shapes must match the parameters.
    public func restore(exp: [Tensor], expSquared: [Tensor], steps: [Int]) throws {
        guard exp.count == parameters.count, expSquared.count == parameters.count, steps.count == parameters.count else {
            throw TensorError.invalidArgument(op: "AdamW.restore", reason: "state for \(exp.count) parameters, the model trains \(parameters.count)")
        }
        for (i, (name, p)) in parameters.enumerated() where exp[i].shape != p.shape || expSquared[i].shape != p.shape {
            throw TensorError.invalidArgument(op: "AdamW.restore", reason: "moments of \(name) have shape \(exp[i].shape), the parameter \(p.shape)")
        }
        self.exp = exp
        self.expSquared = expSquared
        self.steps = steps
    }
}
