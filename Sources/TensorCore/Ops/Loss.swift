import Foundation

/// Classification losses over rows of logits `[…, classes]` with one target id per row.
/// Rows can be excluded with `ignore` (`true` = excluded, e.g. padding); the mean is over the kept
/// rows, and with no kept row the loss is 0 with a zero gradient (PyTorch would give NaN).
extension Tensor {
    private func lossRows(targets: [Int], ignore: [Bool]?, op: String) throws -> (rows: Int, classes: Int, kept: [Int]) {
        guard let classes = shape.last, classes > 0 else {
            throw TensorError.invalidShape(op: op, shape: shape, reason: "logits need a non-empty last (class) axis")
        }
        let rows = count / classes
        guard targets.count == rows else {
            throw TensorError.elementCount(op: "\(op) (one target per row of logits \(shape))", expected: rows, got: targets.count)
        }
        if let ignore, ignore.count != rows {
            throw TensorError.elementCount(op: "\(op) (one ignore flag per row of logits \(shape))", expected: rows, got: ignore.count)
        }
        let kept = (0..<rows).filter { !(ignore?[$0] ?? false) }
        for r in kept where targets[r] < 0 || targets[r] >= classes {
            throw TensorError.indexOutOfRange(op: "\(op) target of row \(r)", index: targets[r], size: classes)
        }
        return (rows, classes, kept)
    }

    /// Mean cross-entropy `−log softmax(logits)[target]` over the kept rows.
    public func crossEntropy(targets: [Int], ignore: [Bool]? = nil) throws -> Tensor {
        let (_, classes, kept) = try lossRows(targets: targets, ignore: ignore, op: "crossEntropy")
        var logProbs = [Float](repeating: 0, count: classes)
        var total: Double = 0
        var softmaxRows: [Int: [Float]] = [:]
        let recording = Tensor.needsGrad(self)
        for r in kept {
            Kernels.logSoftmaxRow(data + r * classes, &logProbs, count: classes)
            total -= Double(logProbs[targets[r]])
            if recording { softmaxRows[r] = logProbs.map { Foundation.exp($0) } }
        }
        let scale = kept.isEmpty ? 0 : 1 / Float(kept.count)
        let out = Tensor(scalar: Float(total) * scale)
        let inputShape = shape
        return Tensor.record(out, op: "crossEntropy", inputs: [self]) { g in
            // d/dz = (softmax − onehot) / kept.
            let gx = Tensor.zeros(inputShape)
            let s = g.data[0] * scale
            for r in kept {
                let p = softmaxRows[r]!
                for c in 0..<classes { gx.data[r * classes + c] = p[c] * s }
                gx.data[r * classes + targets[r]] -= s
            }
            return [gx]
        }
    }

    /// The original's focal loss (`sentence_vae/models/focal_loss.py`): per row
    /// `−(1 − p)^γ · log(p + ε)` with `p` the softmax probability of the target, mean over kept rows.
    public func focalLoss(targets: [Int], gamma: Float = 2, eps: Float = 1e-6, ignore: [Bool]? = nil) throws -> Tensor {
        let (_, classes, kept) = try lossRows(targets: targets, ignore: ignore, op: "focalLoss")
        var probs = [Float](repeating: 0, count: classes)
        var total: Double = 0
        var saved: [Int: [Float]] = [:]
        let recording = Tensor.needsGrad(self)
        for r in kept {
            Kernels.softmaxRow(data + r * classes, &probs, count: classes)
            let p = probs[targets[r]]
            total += Double(-Foundation.pow(1 - p, gamma) * Foundation.log(p + eps))
            if recording { saved[r] = probs }
        }
        let scale = kept.isEmpty ? 0 : 1 / Float(kept.count)
        let out = Tensor(scalar: Float(total) * scale)
        let inputShape = shape
        return Tensor.record(out, op: "focalLoss", inputs: [self]) { g in
            // L(p) = −(1−p)^γ log(p+ε);  dL/dp = γ(1−p)^(γ−1) log(p+ε) − (1−p)^γ/(p+ε);
            // dp/dz_c = p(δ_tc − s_c).
            let gx = Tensor.zeros(inputShape)
            let s = g.data[0] * scale
            for r in kept {
                let probs = saved[r]!
                let t = targets[r], p = probs[t]
                let dLdp = gamma * Foundation.pow(1 - p, gamma - 1) * Foundation.log(p + eps) - Foundation.pow(1 - p, gamma) / (p + eps)
                let k = dLdp * p * s
                for c in 0..<classes { gx.data[r * classes + c] = -k * probs[c] }
                gx.data[r * classes + t] += k
            }
            return [gx]
        }
    }
}
