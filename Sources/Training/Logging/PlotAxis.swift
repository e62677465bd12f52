import Foundation

/// One axis of a plot: maps data values to pixels (linear or log10) and picks tick positions at
/// "nice" numbers (1, 2, 5 × 10^k) with labels short enough to fit beside a panel.
struct PlotAxis {
    let low: Double, high: Double
    let pixelLow: Double, pixelHigh: Double
    let logarithmic: Bool
    /// About how many ticks to aim for.
    let tickTarget: Double

    /// An axis over the data `low...high`, drawn from pixel `pixels.from` to `pixels.to` (y axes run
    /// upwards, so their `from` is the larger number). A single value gets a small range around it; a linear
    /// axis is widened to the enclosing ticks so the curve never touches the frame unannounced.
    init(dataLow: Double, dataHigh: Double, pixels: (from: Double, to: Double), logarithmic: Bool = false, widenToTicks: Bool = true,
         tickTarget: Int = 5) {
        self.tickTarget = Double(max(tickTarget, 2))
        var lo = dataLow, hi = dataHigh
        if logarithmic {
            if hi <= lo { lo /= 2; hi *= 2 }
            if widenToTicks { lo = PlotAxis.logTick(below: lo); hi = PlotAxis.logTick(above: hi) }
            self.low = lo; self.high = hi
        } else {
            if hi <= lo {
                let pad = lo == 0 ? 1 : abs(lo) * 0.1
                lo -= pad; hi += pad
            }
            if widenToTicks {
                let step = PlotAxis.niceStep((hi - lo) / self.tickTarget)
                lo = (lo / step).rounded(.down) * step
                hi = (hi / step).rounded(.up) * step
            }
            self.low = lo; self.high = hi
        }
        self.pixelLow = pixels.from; self.pixelHigh = pixels.to
        self.logarithmic = logarithmic
    }

    /// The pixel coordinate of `v` (pixelLow at `low`, pixelHigh at `high`).
    func pixel(_ v: Double) -> Double {
        let t = logarithmic ? (log10(v) - log10(low)) / (log10(high) - log10(low)) : (v - low) / (high - low)
        return pixelLow + t * (pixelHigh - pixelLow)
    }

    /// Tick values inside the axis, about five of them.
    func ticks() -> [Double] {
        if logarithmic {
            let a = Int(log10(low).rounded(.down)), b = Int(log10(high).rounded(.up))
            // Few decades: label 1, 2 and 5 of each; many: every decade (or every few).
            let multiples: [Double] = b - a <= 2 ? [1, 2, 5] : [1]
            let every = max(1, (b - a) / 6)
            var out: [Double] = []
            for e in stride(from: a, through: b, by: every) {
                for m in multiples {
                    let v = m * pow(10, Double(e))
                    if v >= low * (1 - 1e-9), v <= high * (1 + 1e-9) { out.append(v) }
                }
            }
            return out
        }
        let step = PlotAxis.niceStep((high - low) / tickTarget)
        var v = (low / step).rounded(.up) * step
        var out: [Double] = []
        while v <= high + step * 1e-6 {
            out.append(abs(v) < step * 1e-9 ? 0 : v)
            v += step
        }
        return out
    }

    /// The largest 1, 2 or 5 × 10^k at or below `v` (> 0): where a log axis starts.
    static func logTick(below v: Double) -> Double {
        let decade = pow(10, log10(v).rounded(.down))
        return [5.0, 2, 1].map { $0 * decade }.first { $0 <= v * (1 + 1e-9) } ?? decade
    }

    /// The smallest 1, 2 or 5 × 10^k at or above `v` (> 0): where a log axis ends.
    static func logTick(above v: Double) -> Double {
        let decade = pow(10, log10(v).rounded(.down))
        return [1.0, 2, 5, 10].map { $0 * decade }.first { $0 >= v * (1 - 1e-9) } ?? 10 * decade
    }

    /// The nice number (1, 2, 2.5 or 5 × 10^k) nearest above `rough`.
    static func niceStep(_ rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        for m in [1.0, 2, 2.5, 5, 10] where m * magnitude >= rough * (1 - 1e-9) { return m * magnitude }
        return 10 * magnitude
    }

    /// A short label: `0.0003` → `3e-4`, `20000` → `20k`, `2.5` → `2.5`.
    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e6 { return trim(String(format: "%.2f", v / 1e6)) + "M" }
        if a >= 1e4 { return trim(String(format: "%.1f", v / 1e3)) + "k" }
        if a < 1e-2 {
            // Mantissa with at most two decimals, exponent without padding: 2.5e-4.
            let e = Int(log10(a).rounded(.down))
            var m = v / pow(10, Double(e))
            var exp = e
            if abs(m) >= 9.995 { m /= 10; exp += 1 }
            return trim(String(format: "%.2f", m)) + "e\(exp)"
        }
        return trim(String(format: "%.4f", v))
    }

    private static func trim(_ s: String) -> String {
        guard s.contains(".") else { return s }
        var t = s
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }
}
