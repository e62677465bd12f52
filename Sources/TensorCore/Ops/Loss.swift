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

    /// The mean over kept rows of a loss of the target's log-probability. `perRow(log p_t)` gives
    /// the row's loss and `k`, with which the gradient is `∂L/∂z_c = k·(δ_tc − p_c)`. The backward
    /// recomputes the softmax from the logits instead of keeping a copy of every row.
    private func targetLoss(_ op: String, targets: [Int], ignore: [Bool]?,
                            _ perRow: @escaping (Float) -> (loss: Float, k: Float)) throws -> Tensor {
        let (_, classes, kept) = try lossRows(targets: targets, ignore: ignore, op: op)
        var logProbs = [Float](repeating: 0, count: classes)
        var total: Double = 0
        for r in kept {
            Kernels.logSoftmaxRow(data + r * classes, &logProbs, count: classes)
            total += Double(perRow(logProbs[targets[r]]).loss)
        }
        let scale = kept.isEmpty ? 0 : 1 / Float(kept.count)
        let out = Tensor(scalar: Float(total) * scale)
        let logits = self
        return Tensor.record(out, op: op, inputs: [logits]) { g in
            let gx = Tensor.zeros(logits.shape)
            var logProbs = [Float](repeating: 0, count: classes)
            for r in kept {
                Kernels.logSoftmaxRow(logits.data + r * classes, &logProbs, count: classes)
                let t = targets[r]
                let k = perRow(logProbs[t]).k * g.data[0] * scale
                let row = gx.data + r * classes
                for c in 0..<classes { row[c] = -k * Foundation.exp(logProbs[c]) }
                row[t] += k
            }
            return [gx]
        }
    }

    /// Mean cross-entropy `−log softmax(logits)[target]` over the kept rows.
    public func crossEntropy(targets: [Int], ignore: [Bool]? = nil) throws -> Tensor {
        try targetLoss("crossEntropy", targets: targets, ignore: ignore) { logP in (-logP, -1) }
    }

    /// The original's focal loss (`sentence_vae/models/focal_loss.py`): per row
    /// `−(1 − p)^γ · log(p + ε)` with `p` the softmax probability of the target, mean over kept rows.
    public func focalLoss(targets: [Int], gamma: Float = 2, eps: Float = 1e-6, ignore: [Bool]? = nil) throws -> Tensor {
        try targetLoss("focalLoss", targets: targets, ignore: ignore) { logP in
            // dL/dp = γ(1−p)^(γ−1)·log(p+ε) − (1−p)^γ/(p+ε), and ∂p/∂z_c = p(δ_tc − p_c).
            let p = Foundation.exp(logP)
            let weight = Foundation.pow(1 - p, gamma), logTerm = Foundation.log(p + eps)
            let dLdp = (gamma == 0 ? 0 : gamma * Foundation.pow(1 - p, gamma - 1) * logTerm) - weight / (p + eps)
            return (-weight * logTerm, dLdp * p)
        }
    }
}
