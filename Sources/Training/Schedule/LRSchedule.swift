import Foundation

/// The learning rate of every iteration, as a pure function of the iteration (so resuming needs
/// only the step).
public enum LRSchedule: Equatable, Sendable {
    /// The original's `LinearLR(start_factor, begin 0, end warmup)` chained with
    /// `CosineAnnealingLR(T_max)` exactly as mmengine composes them: both are active from
    /// iteration 0 and each multiplies the current value by its own factor (mmengine's chainable
    /// form), so the warm-up ends near 0.85·lr for the original configs and the cosine never stops:
    /// the lr is 0 at T, 3T, … and back at the peak at 2T, 4T, ….
    case mmengine(warmupIters: Int, cosineTMax: Int, startFactor: Double = 1e-3)
    /// Linear warm-up from 0 to the peak over `warmupIters`, then one cosine to 0 at `totalIters`.
    case warmupCosine(warmupIters: Int, totalIters: Int)

    /// The factor (× peak lr) that the optimizer step of iteration `t` (0-based) uses.
    public func factor(at t: Int) -> Double { factors(count: t + 1)[t] }

    /// The factors of iterations `0..<count` (one pass; the mmengine form is a recursion).
    public func factors(count: Int) -> [Double] {
        switch self {
        case let .mmengine(warmup, tmax, s):
            return Self.mmengineFactors(count: count, warmup: warmup, tmax: tmax, start: s)
        case let .warmupCosine(warmup, total):
            return (0..<count).map { t in
                if t < warmup { return Double(t + 1) / Double(warmup) }
                let span = Double(Swift.max(total - warmup, 1))
                let progress = Swift.min(Double(t - warmup) / span, 1)
                return 0.5 * (1 + cos(Double.pi * progress))
            }
        }
    }

    /// mmengine's recursion, replayed from iteration 0 in Double like Python: `LinearParamScheduler`
    /// (total_iters = end − begin − 1) then `CosineAnnealingParamScheduler` (eta_min 0), each
    /// stepped after every iteration; at construction both step once (last_step 0).
    static func mmengineFactors(count: Int, warmup: Int, tmax: Int, start: Double) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(count)
        var value = warmup > 0 ? start : 1          // iteration 0: LinearLR's start factor, cosine unchanged
        let total = Double(warmup - 1)
        for g in 0..<count {
            if g > 0 {
                if g < warmup {                     // LinearLR is active while begin <= step < end
                    value *= 1 + (1 - start) / (total * start + Double(g - 1) * (1 - start))
                }
                if tmax > 0 {
                    if (g - 1 - tmax) % (2 * tmax) == 0 {   // the cosine restarts from 0: an additive step
                        value += (1 - cos(Double.pi / Double(tmax))) / 2
                    } else {
                        value *= (1 + cos(Double.pi * Double(g) / Double(tmax))) / (1 + cos(Double.pi * Double(g - 1) / Double(tmax)))
                    }
                }
            }
            out.append(value)
        }
        return out
    }
}
