import Foundation

/// Flat loops over contiguous Float32 buffers, 16 lanes at a time with a scalar tail.
/// Everything here is memory-bound; the ops layer handles shapes and broadcasting.
public enum Kernels {
    @inline(__always)
    static func map(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int,
        _ vector: (FloatVector) -> FloatVector, _ scalar: (Float) -> Float
    ) {
        var i = 0
        while i + 16 <= n {
            storeVector(vector(loadVector(x + i)), out + i)
            i += 16
        }
        while i < n {
            out[i] = scalar(x[i])
            i += 1
        }
    }

    @inline(__always)
    static func map2(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int,
        _ vector: (FloatVector, FloatVector) -> FloatVector, _ scalar: (Float, Float) -> Float
    ) {
        var i = 0
        while i + 16 <= n {
            storeVector(vector(loadVector(a + i), loadVector(b + i)), out + i)
            i += 16
        }
        while i < n {
            out[i] = scalar(a[i], b[i])
            i += 1
        }
    }

    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        map2(a, b, out, count: n, { $0 + $1 }, { $0 + $1 })
    }

    public static func sub(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        map2(a, b, out, count: n, { $0 - $1 }, { $0 - $1 })
    }

    public static func mul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        map2(a, b, out, count: n, { $0 * $1 }, { $0 * $1 })
    }

    public static func div(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        map2(a, b, out, count: n, { $0 / $1 }, { $0 / $1 })
    }

    /// `out = x·scale + shift`. A loop of its own, not `map`: the optimizer left `map`'s capturing
    /// closure as a call per vector here (perf: 16 floats passed in four xmm registers each way),
    /// which made softmax's normalising pass cost a quarter of the softmax (21.4 µs → 16.x at 50,272
    /// on AMD Zen 4).
    public static func affine(_ x: UnsafePointer<Float>, scale: Float, shift: Float, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        let s = FloatVector(repeating: scale), b = FloatVector(repeating: shift)
        var i = 0
        while i + 16 <= n {
            storeVector(loadVector(x + i) * s + b, out + i)
            i += 16
        }
        while i < n {
            out[i] = x[i] * scale + shift
            i += 1
        }
    }

    /// A loop of its own, as `affine`: through `map`, the masked select stayed a call per vector.
    public static func relu(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        while i + 16 <= n {
            let v = loadVector(x + i)
            storeVector(v.replacing(with: 0, where: v .< 0), out + i)
            i += 16
        }
        while i < n {
            out[i] = x[i] < 0 ? 0 : x[i]
            i += 1
        }
    }

    /// `out = gy` where `x > 0`, else 0 (ReLU's backward; the kink at 0 gets 0, like PyTorch).
    public static func reluBackward(_ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        while i + 16 <= n {
            storeVector(loadVector(gy + i).replacing(with: 0, where: loadVector(x + i) .<= 0), out + i)
            i += 16
        }
        while i < n {
            out[i] = x[i] > 0 ? gy[i] : 0
            i += 1
        }
    }

    public static func exp(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        map(x, out, count: n, vectorExp, { Foundation.exp($0) })
    }

    /// Exact GELU, `x·Φ(x) = x/2·(1 + erf(x/√2))`, as PyTorch's default (approximate="none").
    /// Uses libm's erfc per element, Φ(x) = erfc(−x/√2)/2: accurate in the far negative tail, where
    /// `1 + erf` cancels and polynomial erf approximations lose all relative precision.
    public static func gelu(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n {
            let v = x[i]
            out[i] = 0.5 * v * erfc(-v * 0.707_106_77)
        }
    }

    /// d GELU/dx = Φ(x) + x·φ(x).
    public static func geluBackward(_ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n {
            let v = x[i]
            let cdf = 0.5 * erfc(-v * 0.707_106_77)
            let pdf = Foundation.exp(-0.5 * v * v) * 0.398_942_28
            out[i] = gy[i] * (cdf + v * pdf)
        }
    }

    /// Sum of `n` floats (16 partial sums, then one horizontal add).
    public static func sum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        var acc = FloatVector()
        var i = 0
        while i + 16 <= n {
            acc += loadVector(x + i)
            i += 16
        }
        var total = acc.sum()
        while i < n {
            total += x[i]
            i += 1
        }
        return total
    }

    /// Largest of `n` floats (−inf for n = 0).
    public static func max(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        var best = -Float.infinity
        var i = 0
        if n >= 16 {
            var acc = FloatVector(repeating: -.infinity)
            while i + 16 <= n {
                let v = loadVector(x + i)
                acc = acc.replacing(with: v, where: v .> acc)
                i += 16
            }
            best = acc.max()
        }
        while i < n {
            if x[i] > best { best = x[i] }
            i += 1
        }
        return best
    }

    /// Dot product of two contiguous vectors.
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Float {
        var acc = FloatVector()
        var i = 0
        while i + 16 <= n {
            acc += loadVector(a + i) * loadVector(b + i)
            i += 16
        }
        var total = acc.sum()
        while i < n {
            total += a[i] * b[i]
            i += 1
        }
        return total
    }
}
