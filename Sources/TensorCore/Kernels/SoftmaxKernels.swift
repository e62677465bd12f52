import Foundation

/// Row kernels for softmax and log-softmax. Masked entries arrive as −inf (the ops layer writes
/// them), give probability 0, and a row with nothing unmasked gives all zeros (softmax) or all
/// −inf (log-softmax) instead of the NaNs that 0/0 would make.
extension Kernels {
    public static func softmaxRow(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        softmaxRowStatistics(x, out, count: n)
    }

    /// `softmaxRow`, also giving the row's max and Σ exp(x − max): what merging the softmaxes of a
    /// row's parts needs (attention over a cache split between threads). (−inf, 0) for a row with
    /// nothing unmasked.
    @discardableResult
    public static func softmaxRowStatistics(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) -> (max: Float, total: Float) {
        let m = max(x, count: n)
        guard m > -.infinity else {
            out.update(repeating: 0, count: n)
            return (-.infinity, 0)
        }
        var acc = FloatVector()
        var i = 0
        while i + 16 <= n {
            let e = vectorExpNonPositive(loadVector(x + i) - m)
            storeVector(e, out + i)
            acc += e
            i += 16
        }
        var total = acc.sum()
        while i < n {
            let e = Foundation.exp(x[i] - m)
            out[i] = e
            total += e
            i += 1
        }
        let inverse = 1 / total
        affine(out, scale: inverse, shift: 0, out, count: n)
        return (m, total)
    }

    public static func logSoftmaxRow(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        let lse = logSumExp(x, count: n)
        guard lse > -.infinity else {
            out.update(repeating: -.infinity, count: n)
            return
        }
        affine(x, scale: 1, shift: -lse, out, count: n)
    }

    /// `logSoftmaxRow(x)[target]` without writing the row (the same arithmetic, so the same value).
    public static func logSoftmaxOfTarget(_ x: UnsafePointer<Float>, target: Int, count n: Int) -> Float {
        let lse = logSumExp(x, count: n)
        guard lse > -.infinity else { return -.infinity }
        return x[target] + -lse
    }

    /// `log Σ exp(x)`, computed as `max + log Σ exp(x − max)`; −inf when every element is −inf.
    static func logSumExp(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        let m = max(x, count: n)
        guard m > -.infinity else { return -.infinity }
        var acc = FloatVector()
        var i = 0
        while i + 16 <= n {
            acc += vectorExpNonPositive(loadVector(x + i) - m)
            i += 16
        }
        var total = acc.sum()
        while i < n {
            total += Foundation.exp(x[i] - m)
            i += 1
        }
        return m + Foundation.log(total)
    }

    /// Softmax backward for one row: `gx = y ⊙ (gy − ⟨gy, y⟩)`.
    public static func softmaxBackwardRow(_ y: UnsafePointer<Float>, _ gy: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>, count n: Int) {
        let inner = dot(y, gy, count: n)
        let v = FloatVector(repeating: inner)
        var i = 0
        while i + 16 <= n {    // not `map2`: its capturing closure stayed a call per vector
            storeVector(loadVector(y + i) * (loadVector(gy + i) - v), gx + i)
            i += 16
        }
        while i < n {
            gx[i] = y[i] * (gy[i] - inner)
            i += 1
        }
    }

    /// Log-softmax backward for one row: `gx = gy − softmax(x)·Σgy`, with softmax = exp(y).
    /// Masked entries (y = −inf) get 0.
    public static func logSoftmaxBackwardRow(_ y: UnsafePointer<Float>, _ gy: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>, count n: Int) {
        let total = sum(gy, count: n)
        for i in 0..<n {
            gx[i] = y[i] == -.infinity ? 0 : gy[i] - Foundation.exp(y[i]) * total
        }
    }
}
