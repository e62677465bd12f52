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
    /// the row's loss and `k`, with which the gradient is `∂L/∂z_c = k·(δ_tc − p_c)`. Rows are
    /// spread over the thread pool (each row's work is independent; the sum is taken in row order,
    /// so results do not depend on the thread count). The backward recomputes the softmax from the
    /// logits instead of keeping a copy of every row. Also returns the mean of `−log p_t` over the
    /// same rows (the cross-entropy, for perplexity), at no extra cost.
    private func targetLoss(_ op: String, targets: [Int], ignore: [Bool]?,
                            _ perRow: @escaping (Float) -> (loss: Float, k: Float)) throws -> (loss: Tensor, crossEntropy: Float) {
        let (_, classes, kept) = try lossRows(targets: targets, ignore: ignore, op: op)
        var logP = [Float](repeating: 0, count: kept.count)
        let base = UnsafePointer(data)
        logP.withUnsafeMutableBufferPointer { out in
            let out = out
            Tensor.forEachRowChunk(kept.count, classes: classes) { range in
                for j in range {
                    let r = kept[j]
                    out[j] = Kernels.logSoftmaxOfTarget(base + r * classes, target: targets[r], count: classes)
                }
            }
        }
        var total: Double = 0, nll: Double = 0
        for lp in logP {
            total += Double(perRow(lp).loss)
            nll -= Double(lp)
        }
        let scale = kept.isEmpty ? 0 : 1 / Float(kept.count)
        let out = Tensor(scalar: Float(total) * scale)
        let logits = self
        let recorded = Tensor.record(out, op: op, inputs: [logits]) { g in
            let gx = Tensor(uninitializedShape: logits.shape)
            var keptMask = [Bool](repeating: false, count: logits.count / classes)
            for r in kept { keptMask[r] = true }
            for (r, isKept) in keptMask.enumerated() where !isKept { (gx.data + r * classes).update(repeating: 0, count: classes) }
            let upstream = g.data[0] * scale
            let (src, dst) = (UnsafePointer(logits.data), gx.data)
            Tensor.forEachRowChunk(kept.count, classes: classes) { range in
                for j in range {
                    let r = kept[j], t = targets[r]
                    let k = perRow(logP[j]).k * upstream
                    let row = dst + r * classes
                    Kernels.softmaxRow(src + r * classes, row, count: classes)
                    Kernels.affine(row, scale: -k, shift: 0, row, count: classes)
                    row[t] += k
                }
            }
            return [gx]
        }
        return (recorded, kept.isEmpty ? 0 : Float(nll) * scale)
    }

    /// Runs `body` over `count` rows of `classes` values in contiguous chunks on the thread pool
    /// (one chunk when the work is too small to split).
    static func forEachRowChunk(_ count: Int, classes: Int, _ body: @escaping (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let pool = Threads.shared
        let tasks = count * classes < 1 << 16 ? 1 : Swift.min(pool.threadCount, count)
        let run = { (i: Int) in body((i * count / tasks)..<((i + 1) * count / tasks)) }
        if tasks == 1 { run(0) } else { pool.run(tasks, run) }
    }

    /// Mean cross-entropy `−log softmax(logits)[target]` over the kept rows.
    public func crossEntropy(targets: [Int], ignore: [Bool]? = nil) throws -> Tensor {
        try targetLoss("crossEntropy", targets: targets, ignore: ignore) { logP in (-logP, -1) }.loss
    }

    /// The original's focal loss (`sentence_vae/models/focal_loss.py`): per row
    /// `−(1 − p)^γ · log(p + ε)` with `p` the softmax probability of the target, mean over kept rows.
    public func focalLoss(targets: [Int], gamma: Float = 2, eps: Float = 1e-6, ignore: [Bool]? = nil) throws -> Tensor {
        try focalLossAndCrossEntropy(targets: targets, gamma: gamma, eps: eps, ignore: ignore).focal
    }

    /// `focalLoss`, and the mean cross-entropy over the same rows as a plain value (no gradient)
    /// from the same pass over the logits: what training needs for its loss and its perplexity.
    public func focalLossAndCrossEntropy(targets: [Int], gamma: Float = 2, eps: Float = 1e-6,
                                         ignore: [Bool]? = nil) throws -> (focal: Tensor, crossEntropy: Float) {
        let (loss, ce) = try targetLoss("focalLoss", targets: targets, ignore: ignore) { logP in
            // dL/dp = γ(1−p)^(γ−1)·log(p+ε) − (1−p)^γ/(p+ε), and ∂p/∂z_c = p(δ_tc − p_c).
            let p = Foundation.exp(logP)
            let weight = Foundation.pow(1 - p, gamma), logTerm = Foundation.log(p + eps)
            let dLdp = (gamma == 0 ? 0 : gamma * Foundation.pow(1 - p, gamma - 1) * logTerm) - weight / (p + eps)
            return (-weight * logTerm, dLdp * p)
        }
        return (loss, ce)
    }
}
