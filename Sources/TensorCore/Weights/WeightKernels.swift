/// The per-row kernels of compact weights: dot products against an fp32 vector (decoding, one
/// token) and widening rows to fp32 (the tiles of a multi-row product, an embedding lookup).
/// 16 lanes at a time like the other kernels; the widening happens in registers:
/// bf16 → fp32 is a zero-extend and a 16-bit shift, int8 → fp32 a sign-extend and a convert,
/// times the block's scale once per 32 weights.
enum WeightKernels {
    @inline(__always)
    static func widen(_ v: SIMD16<UInt16>) -> FloatVector {
        unsafeBitCast(SIMD16<UInt32>(truncatingIfNeeded: v) &<< 16, to: FloatVector.self)
    }

    @inline(__always)
    static func widen(_ v: SIMD16<Int8>) -> FloatVector {
        FloatVector(SIMD16<Int32>(truncatingIfNeeded: v))
    }

    /// Lane sum by halving (`.sum()` is a scalar loop).
    @inline(__always)
    static func horizontalSum(_ v: FloatVector) -> Float {
        let a = v.lowHalf + v.highHalf
        let b = a.lowHalf + a.highHalf
        let c = b.lowHalf + b.highHalf
        return c[0] + c[1]
    }

    /// `Σ w[i]·x[i]` over one bf16 row of `n` weights.
    @inline(__always)
    static func dotBF16(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, count n: Int) -> Float {
        var a0 = FloatVector(), a1 = FloatVector()
        var i = 0
        while i + 32 <= n {
            a0 += widen(w.loadUnaligned(fromByteOffset: 2 * i, as: SIMD16<UInt16>.self)) * loadVector(x + i)
            a1 += widen(w.loadUnaligned(fromByteOffset: 2 * i + 32, as: SIMD16<UInt16>.self)) * loadVector(x + i + 16)
            i += 32
        }
        var total = horizontalSum(a0 + a1)
        while i < n {
            total += WeightEncoding.float(bf16: w.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) * x[i]
            i += 1
        }
        return total
    }

    /// `Σ q[i]·scale[i/32]·x[i]` over one q8 row of `n` weights (`n` a multiple of 32): each block's
    /// products are summed first, then scaled once.
    @inline(__always)
    static func dotQ8(_ q: UnsafeRawPointer, _ scales: UnsafeRawPointer, _ x: UnsafePointer<Float>, count n: Int) -> Float {
        var a0 = FloatVector(), a1 = FloatVector()
        var b = 0, i = 0
        while i + 64 <= n {
            let s0 = scales.loadUnaligned(fromByteOffset: 4 * b, as: Float.self)
            let s1 = scales.loadUnaligned(fromByteOffset: 4 * b + 4, as: Float.self)
            let p0 = widen(q.loadUnaligned(fromByteOffset: i, as: SIMD16<Int8>.self)) * loadVector(x + i)
                + widen(q.loadUnaligned(fromByteOffset: i + 16, as: SIMD16<Int8>.self)) * loadVector(x + i + 16)
            let p1 = widen(q.loadUnaligned(fromByteOffset: i + 32, as: SIMD16<Int8>.self)) * loadVector(x + i + 32)
                + widen(q.loadUnaligned(fromByteOffset: i + 48, as: SIMD16<Int8>.self)) * loadVector(x + i + 48)
            a0 += p0 * s0
            a1 += p1 * s1
            b += 2
            i += 64
        }
        if i < n {
            let s = scales.loadUnaligned(fromByteOffset: 4 * b, as: Float.self)
            let p = widen(q.loadUnaligned(fromByteOffset: i, as: SIMD16<Int8>.self)) * loadVector(x + i)
                + widen(q.loadUnaligned(fromByteOffset: i + 16, as: SIMD16<Int8>.self)) * loadVector(x + i + 16)
            a0 += p * s
        }
        return horizontalSum(a0 + a1)
    }

    /// `y[r] = W[r]·x (+ bias[r])` for the rows in `range`.
    static func gemvRows(_ storage: WeightMatrix.Storage, columns n: Int, _ range: Range<Int>,
                         x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?) {
        switch storage {
        case let .f32(w):
            for r in range { y[r] = (bias?[r] ?? 0) + Kernels.dot(w + r * n, x, count: n) }
        case let .bf16(w):
            for r in range { y[r] = (bias?[r] ?? 0) + dotBF16(w + 2 * r * n, x, count: n) }
        case let .q8(values, scales):
            let blocks = n / WeightFormat.q8BlockSize
            for r in range { y[r] = (bias?[r] ?? 0) + dotQ8(values + r * n, scales + 4 * r * blocks, x, count: n) }
        }
    }

    /// Rows `range` widened to fp32, one after another in `out` (`range.count × columns` floats).
    static func decodeRows(_ storage: WeightMatrix.Storage, columns n: Int, _ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        switch storage {
        case let .f32(w):
            out.update(from: w + range.lowerBound * n, count: range.count * n)
        case let .bf16(w):
            let src = w + 2 * range.lowerBound * n
            let count = range.count * n
            var i = 0
            while i + 16 <= count {
                storeVector(widen(src.loadUnaligned(fromByteOffset: 2 * i, as: SIMD16<UInt16>.self)), out + i)
                i += 16
            }
            while i < count {
                out[i] = WeightEncoding.float(bf16: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                i += 1
            }
        case let .q8(values, scales):
            // Rows are whole blocks, so a run of rows is a run of blocks.
            let first = range.lowerBound * n / WeightFormat.q8BlockSize
            let blocks = range.count * n / WeightFormat.q8BlockSize
            for b in 0..<blocks {
                let s = scales.loadUnaligned(fromByteOffset: 4 * (first + b), as: Float.self)
                let q = values + (first + b) * WeightFormat.q8BlockSize
                let o = out + b * WeightFormat.q8BlockSize
                storeVector(widen(q.loadUnaligned(as: SIMD16<Int8>.self)) * s, o)
                storeVector(widen(q.loadUnaligned(fromByteOffset: 16, as: SIMD16<Int8>.self)) * s, o + 16)
            }
        }
    }
}
