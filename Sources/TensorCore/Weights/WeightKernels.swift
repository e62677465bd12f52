import CPUKernels
import Foundation

/// The per-row kernels of compact weights: dot products against an fp32 vector (decoding, one
/// token), widening tiles of rows to fp32 (a multi-row product), and widening one row (an
/// embedding lookup).
///
/// Widening uses only shifts, masks and adds on whole vectors, which the compiler keeps in
/// registers (the standard library's lane-type conversions are called out of line and ran 3–4×
/// slower). The price is a fixed lane order inside each group of 32 columns:
/// - bf16: a `SIMD16<UInt32>` load holds 32 weights as (even, odd) pairs; `v << 16` gives the 16
///   even columns and `v & 0xFFFF0000` the 16 odd ones.
/// - q8: a `SIMD8<UInt32>` load holds one block of 32 int8 as 8 lanes × 4 bytes; byte k of every
///   lane, flipped to offset binary and put under the exponent of 2^23, gives columns 4j + k as
///   `(2^23 + q + 128) − (2^23 + 128)`, exactly.
/// So the input vector is permuted once per product into that order (`permute`), and tiles are
/// widened in it too; a product does not depend on the order its terms are listed in.
///
/// On x86 CPUs with AVX2+FMA, the dot products run the C kernels of `CPUKernels` instead, with fused
/// multiply-adds (Swift cannot fuse them without a global -target-cpu): q8 with sign-extending loads
/// and one convert per 8 codes, one row at a time, in natural column order (about 1.3× the Swift
/// kernel's rows/s on matrices in cache and 1.1–1.25× OPT-125m q8 decode, AMD EPYC); bf16 in the
/// same pair lane order as the Swift kernel. On AMD Zen 4, q8 one-row products take x as integer
/// digits instead (`prepareRow`, `NativeKernels.q8VNNI`).
enum WeightKernels {
    static let group = 32

    /// Whether bf16 and q8 products run the C kernels (see `NativeKernels`).
    static var native: Bool { NativeKernels.enabled }
    /// Whether q8's float one-row kernel runs its AVX-512 version (`NativeKernels.avx512`), also
    /// where the integer kernel does not take x (`prepareRow`).
    static var wide: Int32 { NativeKernels.avx512 ? 1 : 0 }
    /// The bf16 one-row product's version (`KernelChoice.rowKernel`): 1 AVX-512 four rows, 2 the
    /// AVX-512 one-row kernel, 0 AVX2.
    static var bf16Kernel: Int32 {
        switch KernelChoice.current.rowKernel(for: .bf16) {
        case .avx512: 1
        case .avx512OneRow: 2
        default: 0
        }
    }

    /// Whether `storage`'s one-row kernel reads its range as four streams a quarter apart (bf16's and
    /// q8's AVX-512 kernels, q8's integer one), so that each thread should take its part whole.
    static func readsFourStreams(_ storage: WeightMatrix.Storage) -> Bool {
        switch storage {
        case .f32: false
        case .bf16: KernelChoice.current.rowKernel(for: .bf16) == .avx512
        case .q8:
            switch KernelChoice.current.rowKernel(for: .q8) {
            case .avx512, .integer: true
            default: false
            }
        }
    }

    // MARK: One-row input

    /// The input of a one-row product as its kernel reads it (`prepareRow`): fp32 in the lane order
    /// of the storage, or, for q8 on the integer kernel (`NativeKernels.q8VNNI`), as integer digits.
    enum RowInput {
        case floats(UnsafePointer<Float>)
        case q8Digits(UnsafeRawPointer)
    }

    /// Floats of scratch that `prepareRow` may fill for a row of `n` columns.
    static func preparedCount(columns n: Int) -> Int {
        max(n, (cpu_kernels_q8_prepared_bytes(n) + 3) / 4)
    }

    /// `x` (one row, natural order) as the one-row kernels of `storage` read it, in `scratch`
    /// (`preparedCount` floats). q8 falls back to floats where x holds values the integer kernel
    /// does not take (NaN, infinities, blocks below 2^-96).
    static func prepareRow(_ x: UnsafePointer<Float>, columns n: Int, for storage: WeightMatrix.Storage,
                           into scratch: UnsafeMutablePointer<Float>) -> RowInput {
        if case .q8 = storage, KernelChoice.current.rowKernel(for: .q8) == .integer, cpu_kernels_q8_prepare_x(x, n, scratch) != 0 {
            return .q8Digits(UnsafeRawPointer(scratch))
        }
        permute(x, columns: n, for: storage, into: scratch)
        return .floats(scratch)
    }

    // MARK: Lane order

    /// `x` (natural column order, `n` floats) into the lane order of `storage` in `out`. Columns
    /// past the last whole group keep their place.
    static func permute(_ x: UnsafePointer<Float>, columns n: Int, for storage: WeightMatrix.Storage, into out: UnsafeMutablePointer<Float>) {
        let whole = n / group * group
        switch storage {
        case .f32:
            out.update(from: x, count: n)
            return
        case .bf16:
            for g in stride(from: 0, to: whole, by: group) {
                for j in 0..<16 {
                    out[g + j] = x[g + 2 * j]
                    out[g + 16 + j] = x[g + 2 * j + 1]
                }
            }
        case .q8 where native:
            out.update(from: x, count: n)
            return
        case .q8:
            for g in stride(from: 0, to: whole, by: group) {
                for k in 0..<4 { for j in 0..<8 { out[g + 8 * k + j] = x[g + 4 * j + k] } }
            }
        }
        (out + whole).update(from: x + whole, count: n - whole)
    }

    // MARK: Widening in lane order

    @inline(__always)
    static func bf16Pairs(_ w: UnsafeRawPointer) -> (even: FloatVector, odd: FloatVector) {
        let v = w.loadUnaligned(as: SIMD16<UInt32>.self)
        return (unsafeBitCast(v &<< 16, to: FloatVector.self), unsafeBitCast(v & 0xFFFF_0000, to: FloatVector.self))
    }

    /// One q8 block's 32 codes as four 8-lane vectors (lane order), not yet scaled.
    @inline(__always)
    static func q8Block(_ q: UnsafeRawPointer) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let byte = SIMD8<UInt32>(repeating: 0xFF), exponent = SIMD8<UInt32>(repeating: 0x4B00_0000)
        let bias = SIMD8<Float>(repeating: 8_388_608 + 128)
        let v = q.loadUnaligned(as: SIMD8<UInt32>.self) ^ 0x8080_8080
        return (unsafeBitCast((v & byte) | exponent, to: SIMD8<Float>.self) - bias,
                unsafeBitCast(((v &>> 8) & byte) | exponent, to: SIMD8<Float>.self) - bias,
                unsafeBitCast(((v &>> 16) & byte) | exponent, to: SIMD8<Float>.self) - bias,
                unsafeBitCast((v &>> 24) | exponent, to: SIMD8<Float>.self) - bias)
    }

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// `Σ code·x` over one q8 block, `xp` in lane order.
    @inline(__always)
    static func q8BlockDot(_ q: UnsafeRawPointer, _ xp: UnsafePointer<Float>) -> SIMD8<Float> {
        let (f0, f1, f2, f3) = q8Block(q)
        return (f0 * load8(xp) + f1 * load8(xp + 8)) + (f2 * load8(xp + 16) + f3 * load8(xp + 24))
    }

    @inline(__always)
    static func horizontalSum(_ v: SIMD8<Float>) -> Float {
        let b = v.lowHalf + v.highHalf
        let c = b.lowHalf + b.highHalf
        return c[0] + c[1]
    }

    // MARK: Dot products (xp in lane order)

    /// `Σ w·x` over one bf16 row of `n` weights.
    @inline(__always)
    static func dotBF16(_ w: UnsafeRawPointer, _ xp: UnsafePointer<Float>, count n: Int) -> Float {
        var a0 = FloatVector(), a1 = FloatVector()
        var i = 0
        while i + group <= n {
            let (even, odd) = bf16Pairs(w + 2 * i)
            a0 += even * loadVector(xp + i)
            a1 += odd * loadVector(xp + i + 16)
            i += group
        }
        let s = a0 + a1
        var total = horizontalSum(s.lowHalf + s.highHalf)
        while i < n {
            total += WeightEncoding.float(bf16: w.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) * xp[i]
            i += 1
        }
        return total
    }

    /// `Σ q·scale·x` over one q8 row of `n` weights (whole blocks): each block's sum is scaled once.
    @inline(__always)
    static func dotQ8(_ q: UnsafeRawPointer, _ scales: Q8Scales, _ xp: UnsafePointer<Float>, count n: Int) -> Float {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
        var b = 0, i = 0
        while i + 2 * group <= n {
            a0 += q8BlockDot(q + i, xp + i) * scales[b]
            a1 += q8BlockDot(q + i + group, xp + i + group) * scales[b + 1]
            b += 2
            i += 2 * group
        }
        if i < n { a0 += q8BlockDot(q + i, xp + i) * scales[b] }
        return horizontalSum(a0 + a1)
    }

    /// `y[r] = W[r]·x (+ bias[r])` for the rows in `range`; `input` is `x` from `prepareRow`.
    static func gemvRows(_ storage: WeightMatrix.Storage, columns n: Int, _ range: Range<Int>,
                         input: RowInput, y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?) {
        let xp: UnsafePointer<Float>
        switch input {
        case let .floats(p):
            xp = p
        case let .q8Digits(p):
            guard case let .q8(values, scales) = storage else { preconditionFailure("q8 digits for a \(storage) matrix") }
            cpu_kernels_q8_gemv_rows_vnni(values.assumingMemoryBound(to: Int8.self), scales.base, scales.half ? 1 : 0, n,
                                          range.lowerBound, range.upperBound, p, y, bias)
            return
        }
        switch storage {
        case let .f32(w):
            for r in range { y[r] = (bias?[r] ?? 0) + Kernels.dot(w + r * n, xp, count: n) }
        case let .bf16(w) where native:
            cpu_kernels_bf16_gemv_rows(w.assumingMemoryBound(to: UInt16.self), n, range.lowerBound, range.upperBound, xp, y, bias, bf16Kernel)
        case let .bf16(w):
            for r in range { y[r] = (bias?[r] ?? 0) + dotBF16(w + 2 * r * n, xp, count: n) }
        case let .q8(values, scales) where native:
            cpu_kernels_q8_gemv_rows(values.assumingMemoryBound(to: Int8.self), scales.base, scales.half ? 1 : 0, n,
                                     range.lowerBound, range.upperBound, xp, y, bias, wide)
        case let .q8(values, scales):
            let blocks = n / group
            for r in range { y[r] = (bias?[r] ?? 0) + dotQ8(values + r * n, scales.advanced(by: r * blocks), xp, count: n) }
        }
    }

    // MARK: Widening rows

    /// Rows `range` widened to fp32 in lane order, one after another in `out` (`range.count × n`).
    static func decodeTile(_ storage: WeightMatrix.Storage, columns n: Int, _ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        switch storage {
        case let .f32(w):
            out.update(from: w + range.lowerBound * n, count: range.count * n)
        case let .bf16(w):
            let whole = n / group * group
            for r in range {
                let row = w + 2 * r * n, o = out + (r - range.lowerBound) * n
                for g in stride(from: 0, to: whole, by: group) {
                    let (even, odd) = bf16Pairs(row + 2 * g)
                    storeVector(even, o + g)
                    storeVector(odd, o + g + 16)
                }
                for c in whole..<n { o[c] = WeightEncoding.float(bf16: row.loadUnaligned(fromByteOffset: 2 * c, as: UInt16.self)) }
            }
        case let .q8(values, scales) where native:
            cpu_kernels_q8_widen_rows(values.assumingMemoryBound(to: Int8.self), scales.base, scales.half ? 1 : 0, n,
                                      range.lowerBound, range.upperBound, out)
        case let .q8(values, scales):
            // Rows are whole blocks, so a run of rows is a run of blocks.
            let first = range.lowerBound * n / group
            for b in 0..<(range.count * n / group) {
                let s = scales[first + b]
                let (f0, f1, f2, f3) = q8Block(values + (first + b) * group)
                let o = UnsafeMutableRawPointer(out + b * group)
                o.storeBytes(of: f0 * s, toByteOffset: 0, as: SIMD8<Float>.self)
                o.storeBytes(of: f1 * s, toByteOffset: 32, as: SIMD8<Float>.self)
                o.storeBytes(of: f2 * s, toByteOffset: 64, as: SIMD8<Float>.self)
                o.storeBytes(of: f3 * s, toByteOffset: 96, as: SIMD8<Float>.self)
            }
        }
    }

    /// Row `r` widened to fp32 in natural column order (one row: an embedding lookup).
    static func decodeRow(_ storage: WeightMatrix.Storage, columns n: Int, _ r: Int, into out: UnsafeMutablePointer<Float>) {
        switch storage {
        case let .f32(w):
            out.update(from: w + r * n, count: n)
        case let .bf16(w):
            for c in 0..<n { out[c] = WeightEncoding.float(bf16: w.loadUnaligned(fromByteOffset: 2 * (r * n + c), as: UInt16.self)) }
        case let .q8(values, scales):
            let blocks = n / group
            for c in 0..<n {
                let s = scales[r * blocks + c / group]
                out[c] = Float(Int8(bitPattern: values.load(fromByteOffset: r * n + c, as: UInt8.self))) * s
            }
        }
    }
}
