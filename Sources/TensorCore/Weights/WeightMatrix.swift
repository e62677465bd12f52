/// A `[rows, columns]` weight matrix (PyTorch's `[out, in]`) in one of the `WeightFormat`s, for the
/// inference products. It never holds an fp32 copy of a compact matrix: the kernels widen rows or
/// tiles as they go (`product`), and a single row can be widened on its own (`row(_:into:)`, the
/// embedding lookup of a quantised table).
///
/// The memory is someone else's or its own: a model's `Tensor`, a buffer it filled by converting,
/// or a read-only file mapping (a converted safetensors file) — `owner` keeps it alive. Compact
/// data is read with unaligned loads, so a mapping needs no particular alignment.
public final class WeightMatrix: @unchecked Sendable {
    public enum Storage {
        /// `rows × columns` Float32.
        case f32(UnsafePointer<Float>)
        /// `rows × columns` bfloat16 bit patterns (UInt16, little-endian).
        case bf16(UnsafeRawPointer)
        /// `rows × columns` Int8 and `rows × columns/32` scales (one per block of a row).
        case q8(values: UnsafeRawPointer, scales: Q8Scales)
    }

    public let rows: Int
    public let columns: Int
    public let storage: Storage
    /// Whatever owns the memory (a Tensor, a `WeightBuffer`, a file mapping).
    public let owner: AnyObject?

    public init(rows: Int, columns: Int, storage: Storage, owner: AnyObject?) {
        self.rows = rows
        self.columns = columns
        self.storage = storage
        self.owner = owner
    }

    /// The fp32 matrix of a 2-D tensor, sharing its memory.
    public convenience init(_ tensor: Tensor) {
        precondition(tensor.rank == 2, "WeightMatrix needs a 2-D tensor, got shape \(tensor.shape)")
        self.init(rows: tensor.shape[0], columns: tensor.shape[1], storage: .f32(tensor.data), owner: tensor)
    }

    /// Converts a matrix row by row into `format` in a buffer of its own: `row(r, buffer)` writes
    /// row `r` as fp32 into a one-row buffer, so no fp32 copy of the whole matrix exists.
    /// Throws when q8 cannot hold it (columns not a multiple of 32, a non-finite weight).
    public convenience init(rows: Int, columns: Int, format: WeightFormat,
                            row: (Int, UnsafeMutablePointer<Float>) throws -> Void) throws {
        guard format.supports(columns: columns) else {
            throw TensorError.invalidArgument(op: "WeightMatrix(\(format))", reason: "rows of \(columns) weights are not whole blocks of \(WeightFormat.q8BlockSize)")
        }
        let buffer = WeightBuffer(byteCount: Self.byteCount(rows: rows, columns: columns, format: format))
        let line = UnsafeMutablePointer<Float>.allocate(capacity: max(columns, 1))
        defer { line.deallocate() }
        let base = buffer.pointer
        switch format {
        case .f32:
            let out = base.bindMemory(to: Float.self, capacity: rows * columns)
            for r in 0..<rows { try row(r, out + r * columns) }
            self.init(rows: rows, columns: columns, storage: .f32(out), owner: buffer)
        case .bf16:
            let out = base.bindMemory(to: UInt16.self, capacity: rows * columns)
            for r in 0..<rows {
                try row(r, line)
                for c in 0..<columns { out[r * columns + c] = WeightEncoding.bf16(line[c]) }
            }
            self.init(rows: rows, columns: columns, storage: .bf16(UnsafeRawPointer(out)), owner: buffer)
        case .q8:
            let blocks = columns / WeightFormat.q8BlockSize
            let values = base.bindMemory(to: Int8.self, capacity: rows * columns)
            let scales = (base + rows * columns).bindMemory(to: UInt16.self, capacity: rows * blocks)
            for r in 0..<rows {
                try row(r, line)
                for b in 0..<blocks {
                    let start = b * WeightFormat.q8BlockSize
                    scales[r * blocks + b] = try WeightEncoding.q8Block(line + start, values: values + r * columns + start)
                }
            }
            self.init(rows: rows, columns: columns, storage: .q8(values: UnsafeRawPointer(values), scales: Q8Scales(UnsafeRawPointer(scales), half: true)), owner: buffer)
        }
    }

    /// `self` converted to `format` (the same matrix when it already is).
    public func converted(to format: WeightFormat) throws -> WeightMatrix {
        if format == self.format { return self }
        return try WeightMatrix(rows: rows, columns: columns, format: format) { r, out in self.row(r, into: out) }
    }

    public var format: WeightFormat {
        switch storage {
        case .f32: .f32
        case .bf16: .bf16
        case .q8: .q8
        }
    }

    /// Bytes a matrix of this shape takes in `format` (q8: values, then fp16 scales).
    public static func byteCount(rows: Int, columns: Int, format: WeightFormat) -> Int {
        switch format {
        case .f32: rows * columns * 4
        case .bf16: rows * columns * 2
        case .q8: rows * columns + rows * (columns / WeightFormat.q8BlockSize) * 2
        }
    }

    /// Bytes this matrix reads (a q8 matrix from a file converted before fp16 scales has fp32 ones).
    public var byteCount: Int {
        guard case let .q8(_, scales) = storage else { return Self.byteCount(rows: rows, columns: columns, format: format) }
        return rows * columns + rows * (columns / WeightFormat.q8BlockSize) * scales.bytesPerScale
    }

    /// Rows `range` as a matrix sharing this one's memory (e.g. q, k or v of a packed projection).
    public func rows(_ range: Range<Int>) -> WeightMatrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows)")
        let first = range.lowerBound
        let part: Storage
        switch storage {
        case let .f32(p): part = .f32(p + first * columns)
        case let .bf16(p): part = .bf16(p + first * columns * 2)
        case let .q8(values, scales):
            part = .q8(values: values + first * columns, scales: scales.advanced(by: first * (columns / WeightFormat.q8BlockSize)))
        }
        return WeightMatrix(rows: range.count, columns: columns, storage: part, owner: self)
    }

    /// Row `r` widened to fp32 into `out` (`columns` floats).
    public func row(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(r >= 0 && r < rows, "row \(r) outside 0..<\(rows)")
        WeightKernels.decodeRow(storage, columns: columns, r, into: out)
    }
}

/// Where a q8 matrix's scales are and how wide: fp16 (GGUF Q8_0's width, what conversion writes)
/// or fp32 (files converted before fp16 scales, read in place as they are).
public struct Q8Scales {
    public let base: UnsafeRawPointer
    public let half: Bool

    public init(_ base: UnsafeRawPointer, half: Bool) {
        self.base = base
        self.half = half
    }

    public var bytesPerScale: Int { half ? 2 : 4 }

    /// Scale `i` (possibly unaligned).
    @inline(__always) public subscript(i: Int) -> Float {
        half ? WeightEncoding.float(half: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
             : base.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
    }

    /// The scales from block `blocks` on.
    public func advanced(by blocks: Int) -> Q8Scales { Q8Scales(base + blocks * bytesPerScale, half: half) }
}
