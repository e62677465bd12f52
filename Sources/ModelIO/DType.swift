import CPUKernels

/// Element types found in checkpoints, named as safetensors names them.
public enum DType: String, CaseIterable, Sendable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .f64, .f32, .f16, .bf16: return true
        default: return false
        }
    }

    /// The dtype of a PyTorch typed storage class (`torch.FloatStorage`, …) or dtype name.
    init?(torchStorage name: String) {
        switch name {
        case "DoubleStorage", "float64": self = .f64
        case "FloatStorage", "float32": self = .f32
        case "HalfStorage", "float16": self = .f16
        case "BFloat16Storage", "bfloat16": self = .bf16
        case "LongStorage", "int64": self = .i64
        case "IntStorage", "int32": self = .i32
        case "ShortStorage", "int16": self = .i16
        case "CharStorage", "int8": self = .i8
        case "ByteStorage", "uint8": self = .u8
        case "BoolStorage", "bool": self = .bool
        default: return nil
        }
    }
}

/// Float32 ↔ bfloat16/float16 bit conversions, written out so they work the same on every platform.
public enum FloatBits {
    @inline(__always) public static func bf16ToFloat(_ b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    /// Round to nearest even, NaN stays NaN (quiet).
    @inline(__always) public static func floatToBF16(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        if f.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// Exact, subnormals included (CPUKernels' conversion, which the q8 scales share).
    @inline(__always) public static func f16ToFloat(_ h: UInt16) -> Float {
        cpu_kernels_half_to_float(h)
    }
}
