import ModelIO
import NeuralNet
import TensorCore

/// Which parameters inference keeps in a compact format (`--weights bf16|q8`), and how such a
/// matrix is read from, and written to, checkpoint tensors. Loading and `sentencevae convert`
/// share this one rule, by parameter name: the big matrices of the products —
/// `q_proj k_proj v_proj out_proj fc1 fc2` (OPT layers, the SLLM's `llm_layers`),
/// `in_proj_weight out_proj linear1 linear2` (SVAE encoder and decoder layers),
/// `decoder.linear` (the SVAE's vocabulary head), `project_in`/`project_out`, OPT's
/// `embed_tokens` (the tied embedding and LM head) and the SVAE's token tables `embed_token`
/// (lookups widen one row per token; in fp32 the two tables of a 125m-wide SVAE hold 310 MB).
/// LayerNorms, biases, positions and the small heads (`fc`, `la`) stay fp32. A matrix whose rows
/// are not whole blocks of 32 stays fp32 under q8.
///
/// A converted safetensors file stores matrix NAME as
/// - bf16: `NAME` dtype BF16, shape [out, in];
/// - q8: `NAME` dtype I8, shape [out, in] (the codes q) and `NAME.scales` dtype F16, shape
///   [out, in/32] (one scale per block of 32 consecutive weights of a row, GGUF Q8_0's width); the
///   weight is q·scale. F32 scales (files converted before) are read too, in place as they are;
/// and says `{"sentencevae.weights": "bf16"|"q8"}` in its `__metadata__`. Loading such a file in
/// the format it holds reads the matrices in place from the file mapping; any other combination
/// (an fp32/fp16 checkpoint, a q8 file loaded as bf16 or f32, …) converts row by row.
public enum StoredMatrices {
    public static let scalesSuffix = ".scales"
    public static let metadataKey = "sentencevae.weights"

    private static let linearNames: Set<Substring> = [
        "q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2", "linear1", "linear2", "project_in", "project_out", "embed_tokens", "embed_token",
    ]

    /// Whether parameter `name` of shape `shape` is one of the matrices kept compact.
    public static func isMatrix(_ name: String, shape: [Int]) -> Bool {
        guard shape.count == 2 else { return false }
        let parts = name.split(separator: ".")
        guard let last = parts.last else { return false }
        if last == "in_proj_weight" { return true }
        guard last == "weight", parts.count >= 2 else { return false }
        let owner = parts[parts.count - 2]
        return linearNames.contains(owner) || (owner == "linear" && parts.count >= 3 && parts[parts.count - 3] == "decoder")
    }

    /// The format a `[out, in]` matrix is kept in when `requested` is asked for.
    public static func format(for shape: [Int], requested: WeightFormat) -> WeightFormat {
        shape.count == 2 && requested.supports(columns: shape[1]) ? requested : .f32
    }

    /// Matrix `name` of `dict` in `format`, and whether it is read in place (the file holds that
    /// format, contiguously) rather than converted.
    static func matrix(_ name: String, in dict: StateDict, format: WeightFormat) throws -> (matrix: WeightMatrix, inPlace: Bool) {
        let source = try MatrixSource(name, in: dict)
        if let stored = source.inPlace, stored.format == format { return (stored, true) }
        let m = try source.withRows { row in try WeightMatrix(rows: source.rows, columns: source.columns, format: format, row: row) }
        return (m, false)
    }

    /// Writes matrix `name` of `dict` as fp32 into `out` (`rows × columns` floats), whatever it holds.
    static func readFloats(_ name: String, in dict: StateDict, into out: UnsafeMutablePointer<Float>) throws {
        let source = try MatrixSource(name, in: dict)
        source.withRows { row in for r in 0..<source.rows { row(r, out + r * source.columns) } }
    }

    /// The tensors that store `matrix` under `name` (see the layout above); they borrow its memory.
    public static func tensors(_ matrix: WeightMatrix, name: String) throws -> [TensorData] {
        let shape = [matrix.rows, matrix.columns]
        func tensor(_ name: String, _ dtype: DType, _ shape: [Int], _ base: UnsafeRawPointer) throws -> TensorData {
            let bytes = shape.reduce(1, *) * dtype.byteSize
            let storage = ByteStorage(borrowing: UnsafeRawBufferPointer(start: base, count: bytes), owner: matrix)
            return try TensorData(name: name, dtype: dtype, shape: shape, storage: storage, byteRange: 0..<bytes)
        }
        switch matrix.storage {
        case let .f32(p): return [try tensor(name, .f32, shape, UnsafeRawPointer(p))]
        case let .bf16(p): return [try tensor(name, .bf16, shape, p)]
        case let .q8(values, scales):
            return [try tensor(name, .i8, shape, values),
                    try tensor(name + scalesSuffix, scales.half ? .f16 : .f32, [matrix.rows, matrix.columns / WeightFormat.q8BlockSize], scales.base)]
        }
    }

    /// What `convert` did: matrices per format and the other tensors kept.
    public struct ConversionReport: Sendable {
        public var matrices: [WeightFormat: Int] = [:]
        public var others = 0
        public var bytes = 0
    }

    /// `dict` with every matrix in `format` (a q8-incapable one in f32) and every other floating
    /// tensor as F32; integer tensors are copied as they are.
    public static func convert(_ dict: StateDict, to format: WeightFormat) throws -> (tensors: [TensorData], report: ConversionReport) {
        var out: [TensorData] = [], report = ConversionReport()
        for t in dict.all {
            if t.name.hasSuffix(scalesSuffix), let base = dict[String(t.name.dropLast(scalesSuffix.count))], base.dtype == .i8 {
                continue   // written with its matrix
            }
            if isMatrix(t.name, shape: t.shape), t.dtype.isFloatingPoint || t.dtype == .i8 {
                let target = self.format(for: t.shape, requested: format)
                let parts = try tensors(try matrix(t.name, in: dict, format: target).matrix, name: t.name)
                out += parts
                report.matrices[target, default: 0] += 1
                report.bytes += parts.reduce(0) { $0 + $1.byteCount }
            } else if t.dtype.isFloatingPoint && t.dtype != .f32 {
                out.append(try TensorData(name: t.name, shape: t.shape, floats: t.floats()))
                report.others += 1
                report.bytes += t.elementCount * 4
            } else {
                out.append(t)
                report.others += 1
                report.bytes += t.byteCount
            }
        }
        return (out, report)
    }
}

/// A checkpoint matrix read row by row as fp32, whatever it is stored as: F32/F16/BF16/F64, or
/// q8 (I8 codes plus F16 or F32 scales). A q8 matrix's scales are checked here (shape, dtype, and
/// every one finite), so a broken file is a message naming the tensor, not a crash or NaN logits.
private struct MatrixSource {
    let name: String
    let values: TensorData
    let scales: TensorData?
    let rows: Int
    let columns: Int

    init(_ name: String, in dict: StateDict) throws {
        func fail(_ reason: String) -> ModelFactoryError { ModelFactoryError("tensor \(name): \(reason)") }
        let t = try dict.tensor(name)
        guard t.shape.count == 2 else { throw fail("expected a matrix [out, in], found shape \(t.shape)") }
        self.name = name
        values = t
        (rows, columns) = (t.shape[0], t.shape[1])
        switch t.dtype {
        case .f32, .f16, .bf16, .f64:
            scales = nil
        case .i8:
            let scalesName = name + StoredMatrices.scalesSuffix
            guard columns % WeightFormat.q8BlockSize == 0 else {
                throw fail("int8 (q8) rows of \(columns) weights are not whole blocks of \(WeightFormat.q8BlockSize)")
            }
            guard let s = dict[scalesName] else {
                throw fail("stored as int8 (q8) but \(scalesName) is missing; a q8 matrix needs its F16 scales [out, in/\(WeightFormat.q8BlockSize)] (re-convert with `sentencevae convert`)")
            }
            let expected = [rows, columns / WeightFormat.q8BlockSize]
            guard s.dtype == .f16 || s.dtype == .f32, s.shape == expected else {
                throw fail("\(scalesName) is \(s.dtype.rawValue) \(s.shape); the q8 matrix [\(rows), \(columns)] needs F16 (or F32) scales \(expected) (one per block of \(WeightFormat.q8BlockSize) weights along a row)")
            }
            if let bad = Self.firstNonFinite(s) {
                throw fail("\(scalesName) holds \(bad.value) at element \(bad.index); q8 scales must be finite (the file is damaged: re-convert with `sentencevae convert`)")
            }
            scales = s
        default:
            throw fail("dtype \(t.dtype.rawValue) is not a weight format (F32, F16, BF16, F64, or I8 with .scales)")
        }
    }

    /// The first scale that is not finite (and its index), if any.
    private static func firstNonFinite(_ s: TensorData) -> (value: Float, index: Int)? {
        s.withContiguousBytes { raw in
            guard let base = raw.baseAddress else { return nil }   // no scales
            let scales = Q8Scales(base, half: s.dtype == .f16)
            for i in 0..<s.elementCount where !scales[i].isFinite { return (scales[i], i) }
            return nil
        }
    }

    /// The matrix as stored, pointing into the checkpoint's bytes (bf16 and q8 only, contiguous only).
    var inPlace: WeightMatrix? {
        func start(_ t: TensorData) -> UnsafeRawPointer? {
            guard t.isContiguous, let base = t.storage.base else { return nil }
            return base + t.byteRange.lowerBound + t.storageOffset * t.dtype.byteSize
        }
        switch values.dtype {
        case .bf16:
            guard let p = start(values) else { return nil }
            return WeightMatrix(rows: rows, columns: columns, storage: .bf16(p), owner: values.storage)
        case .i8:
            guard let scales, let q = start(values), let s = start(scales) else { return nil }
            return WeightMatrix(rows: rows, columns: columns, storage: .q8(values: q, scales: Q8Scales(s, half: scales.dtype == .f16)),
                                owner: Owners(values.storage, scales.storage))
        default:
            return nil
        }
    }

    /// Calls `body` with a function that writes row `r` as fp32 into a buffer of `columns` floats.
    func withRows<R>(_ body: ((Int, UnsafeMutablePointer<Float>) -> Void) throws -> R) rethrows -> R {
        let n = columns
        return try values.withContiguousBytes { raw in
            switch values.dtype {
            case .f32:
                return try body { r, out in UnsafeMutableRawPointer(out).copyMemory(from: raw.baseAddress! + 4 * r * n, byteCount: 4 * n) }
            case .bf16:
                return try body { r, out in for c in 0..<n { out[c] = FloatBits.bf16ToFloat(raw.loadUnaligned(fromByteOffset: 2 * (r * n + c), as: UInt16.self)) } }
            case .f16:
                return try body { r, out in for c in 0..<n { out[c] = FloatBits.f16ToFloat(raw.loadUnaligned(fromByteOffset: 2 * (r * n + c), as: UInt16.self)) } }
            case .f64:
                return try body { r, out in for c in 0..<n { out[c] = Float(raw.loadUnaligned(fromByteOffset: 8 * (r * n + c), as: Double.self)) } }
            default:   // i8 with scales (checked in init)
                let half = scales!.dtype == .f16
                return try scales!.withContiguousBytes { s in
                    guard let base = s.baseAddress else { return try body { _, _ in } }   // no blocks: nothing to read
                    let q8 = Q8Scales(base, half: half), blocks = n / WeightFormat.q8BlockSize
                    return try body { r, out in
                        for c in 0..<n { out[c] = Float(Int8(bitPattern: raw[r * n + c])) * q8[r * blocks + c / WeightFormat.q8BlockSize] }
                    }
                }
            }
        }
    }
}

/// Keeps the storages of a q8 matrix's two tensors alive (they may come from different files).
private final class Owners {
    let first: AnyObject, second: AnyObject
    init(_ first: AnyObject, _ second: AnyObject) { self.first = first; self.second = second }
}
