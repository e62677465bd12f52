import TensorCore

/// The exponential moving average of the weights that mmengine's `EMAHook` keeps
/// (`ExponentialMovingAverage`): after every optimizer step `ema ← (1 − m)·ema + m·θ`, where the
/// momentum m weighs the NEW weights (0.0002 in the original: an average over ≈ 5,000 steps), and
/// the first update copies θ. Every parameter is averaged, frozen ones included (they stay put).
/// Evaluation and saved model files use the EMA weights.
public final class EMA {
    public let momentum: Float
    public private(set) var averages: [Tensor]
    /// Updates so far; 0 means the next update copies.
    public private(set) var updates: Int = 0

    public init(parameters: [Tensor], momentum: Float) {
        self.momentum = momentum
        averages = parameters.map { $0.copy() }
    }

    public func update(from parameters: [Tensor]) {
        for (avg, p) in zip(averages, parameters) {
            if updates == 0 {
                avg.data.update(from: p.data, count: p.count)
            } else {
                let (a, x, m) = (avg.data, p.data, momentum)
                for j in 0..<p.count { a[j] += m * (x[j] - a[j]) }
            }
        }
        updates += 1
    }

    /// Puts saved averages back (resume).
    public func restore(averages saved: [Tensor], updates: Int) throws {
        guard saved.count == averages.count, zip(saved, averages).allSatisfy({ $0.shape == $1.shape }) else {
            throw TensorError.invalidArgument(op: "EMA.restore", reason: "saved averages do not match the model's parameters")
        }
        for (a, s) in zip(averages, saved) { a.data.update(from: s.data, count: s.count) }
        self.updates = updates
    }
}
