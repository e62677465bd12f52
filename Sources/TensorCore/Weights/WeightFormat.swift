/// How an inference weight matrix is stored. Compute is always fp32: the product kernels widen
/// the stored values as they stream them, because batch-1 decoding is bound by the bytes of weight
/// read per token (DESIGN.md §5), not by arithmetic.
///
/// - `f32`: 4 bytes a weight, as trained.
/// - `bf16`: 2 bytes, the top half of the fp32 bit pattern (rounded to nearest even); widening is a
///   16-bit shift.
/// - `q8`: GGUF Q8_0-style blocks of 32 weights along a row (the input dimension): one fp32 scale
///   `max|w| / 127` and 32 int8 values `round(w / scale)`; a weight is `q · scale`. 1.125 bytes a
///   weight. The scale is kept in fp32 (not fp16 as in GGUF) so dequantisation is exact in fp32.
public enum WeightFormat: String, CaseIterable, Sendable {
    case f32, bf16, q8

    /// Weights per q8 block (one scale each).
    public static let q8BlockSize = 32

    /// Stored bytes per weight (q8 includes its share of the scales).
    public var bytesPerWeight: Double {
        switch self {
        case .f32: 4
        case .bf16: 2
        case .q8: 1 + 4.0 / Double(Self.q8BlockSize)
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

    /// One q8 block: `scale = max|w| / 127`, `q = round(w / scale)` (0 for an all-zero block).
    /// Throws on a non-finite weight, which has no int8 code.
    public static func q8Block(_ w: UnsafePointer<Float>, values: UnsafeMutablePointer<Int8>) throws -> Float {
        var largest: Float = 0
        for i in 0..<WeightFormat.q8BlockSize {
            guard w[i].isFinite else {
                throw TensorError.invalidArgument(op: "q8 quantisation", reason: "weight \(w[i]) is not finite; such a matrix cannot be stored as q8")
            }
            largest = max(largest, abs(w[i]))
        }
        let scale = largest / 127
        for i in 0..<WeightFormat.q8BlockSize {
            let q = scale == 0 ? 0 : (w[i] / scale).rounded()
            values[i] = Int8(min(127, max(-127, q)))
        }
        return scale
    }
}
