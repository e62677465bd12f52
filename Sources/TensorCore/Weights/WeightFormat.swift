import CPUKernels

/// How an inference weight matrix is stored. Compute is always fp32: the product kernels widen
/// the stored values as they stream them, because batch-1 decoding is bound by the bytes of weight
/// read per token (DESIGN.md §5), not by arithmetic.
///
/// - `f32`: 4 bytes a weight, as trained.
/// - `bf16`: 2 bytes, the top half of the fp32 bit pattern (rounded to nearest even); widening is a
///   16-bit shift.
/// - `q8`: GGUF Q8_0's blocks of 32 weights along a row (the input dimension): one fp16 scale, the
///   smallest fp16 ≥ `max|w| / 127`, and 32 int8 values `round(w / scale)`; a weight is
///   `q · scale`, exact in fp32 (8 significant bits times 11). 1.0625 bytes a weight: OPT-125m
///   decoding reads 132 MB a token, against 139.5 with the fp32 scales of files converted before
///   (still read, `Q8Scales`).
public enum WeightFormat: String, CaseIterable, Sendable {
    case f32, bf16, q8

    /// Weights per q8 block (one scale each).
    public static let q8BlockSize = 32

    /// Stored bytes per weight (q8 includes its share of the scales).
    public var bytesPerWeight: Double {
        switch self {
        case .f32: 4
        case .bf16: 2
        case .q8: 1 + 2.0 / Double(Self.q8BlockSize)
        }
    }

    /// Whether a matrix with rows of `columns` weights can be stored this way (q8 needs whole blocks).
    public func supports(columns: Int) -> Bool {
        self != .q8 || columns % Self.q8BlockSize == 0
    }
}

/// Scalar conversions between fp32 and the stored formats (the vector forms are in `WeightKernels`).
public enum WeightEncoding {
    /// bfloat16 bits of `f`, rounded to nearest even; NaN stays a (quiet) NaN.
    @inline(__always) public static func bf16(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        if f.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    @inline(__always) public static func float(bf16 b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    /// One q8 block: its scale is the smallest fp16 ≥ `max|w| / 127` (rounding up keeps every code
    /// within ±127), `q = round(w / scale)` (0 for an all-zero block). Returns the scale's fp16 bits.
    /// Throws on a non-finite weight, which has no int8 code, and on a block whose scale fp16 cannot
    /// hold (max |w| above 127 × 65504 ≈ 8.3e6).
    public static func q8Block(_ w: UnsafePointer<Float>, values: UnsafeMutablePointer<Int8>) throws -> UInt16 {
        var largest: Float = 0
        for i in 0..<WeightFormat.q8BlockSize {
            guard w[i].isFinite else {
                throw TensorError.invalidArgument(op: "q8 quantisation", reason: "weight \(w[i]) is not finite; such a matrix cannot be stored as q8")
            }
            largest = max(largest, abs(w[i]))
        }
        guard let bits = halfRoundingUp(largest / 127) else {
            throw TensorError.invalidArgument(op: "q8 quantisation", reason: "a weight of magnitude \(largest) is beyond q8's fp16 scales (at most 127 × 65504 ≈ 8.3e6); store this matrix as bf16 or f32")
        }
        let scale = float(half: bits)
        for i in 0..<WeightFormat.q8BlockSize {
            let q = scale == 0 ? 0 : (w[i] / scale).rounded()
            values[i] = Int8(min(127, max(-127, q)))
        }
        return bits
    }

    /// fp32 of fp16 bits, exactly (subnormals included; infinities and NaN kept).
    @inline(__always) public static func float(half h: UInt16) -> Float {
        cpu_kernels_half_to_float(h)
    }

    /// The smallest fp16 ≥ `f` (finite, ≥ 0) as bits, or nil past fp16's largest finite value.
    static func halfRoundingUp(_ f: Float) -> UInt16? {
        let bits = f.bitPattern, exponent = Int(bits >> 23) - 127, fraction = bits & 0x7F_FFFF
        var h: UInt32 = 0
        if exponent > 15 { return nil }
        if exponent >= -14 {
            h = UInt32(exponent + 15) << 10 | fraction >> 13           // normal, truncated
        } else if exponent >= -25 {
            h = (fraction | 0x80_0000) >> UInt32(-exponent - 1)         // subnormal (m · 2^-24), truncated
        }
        if f > float(half: UInt16(h)) { h += 1 }                        // a carry moves into the exponent
        return h < 0x7C00 ? UInt16(h) : nil
    }
}
