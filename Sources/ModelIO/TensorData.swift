import CPUKernels

/// One tensor as a file holds it: dtype, shape, and the bytes it lives in, not yet converted.
///
/// Safetensors tensors are contiguous slices of the file mapping. PyTorch tensors are views: a
/// storage (`byteRange` of `storage`) plus an element offset and element strides, so transposed
/// or sliced tensors and tensors sharing one storage come out exactly as PyTorch saw them.
/// `floats()` and friends materialise the view in contiguous row-major order.
public struct TensorData: @unchecked Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Element strides (PyTorch convention).
    public let strides: [Int]
    /// Element offset of the first element into the storage.
    public let storageOffset: Int
    /// The bytes backing the tensor's storage (keeps a file mapping alive).
    public let storage: ByteStorage
    /// The byte range of `storage` that is this tensor's PyTorch storage.
    public let byteRange: Range<Int>

    /// A view into `byteRange` of `storage`. Throws unless every element it addresses lies inside.
    public init(name: String, dtype: DType, shape: [Int], strides: [Int]? = nil, storageOffset: Int = 0,
                storage: ByteStorage, byteRange: Range<Int>) throws {
        let strides = strides ?? TensorData.contiguousStrides(shape)
        func bad(_ r: String) -> ModelIOError { .malformed(path: name, reason: r) }
        guard strides.count == shape.count else { throw bad("shape \(shape) and strides \(strides) differ in rank") }
        guard shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }), storageOffset >= 0 else {
            throw bad("negative size, stride or offset (shape \(shape), strides \(strides), offset \(storageOffset))")
        }
        guard byteRange.lowerBound >= 0, byteRange.upperBound <= storage.count else {
            throw bad("storage bytes \(byteRange) lie outside the \(storage.count)-byte file")
        }
        guard let n = TensorData.elementCount(shape), n <= Int.max / 16 else { throw bad("shape \(shape) has too many elements") }
        // Zero strides (expanded views) may repeat elements, but a view may not claim vastly more
        // memory than the file holds: that is a hostile file asking for an absurd allocation.
        guard n * dtype.byteSize <= storage.count * 16 + (64 << 20) else {
            throw bad("shape \(shape) would materialise \(n * dtype.byteSize) bytes from a \(storage.count)-byte file")
        }
        if !shape.contains(0) {
            // Last element addressed, computed without overflow.
            var last = storageOffset
            for (n, s) in zip(shape, strides) {
                let (m, o1) = (n - 1).multipliedReportingOverflow(by: s)
                let (sum, o2) = last.addingReportingOverflow(m)
                guard !o1, !o2 else { throw bad("strides \(strides) overflow") }
                last = sum
            }
            let (endBytes, o3) = (last + 1).multipliedReportingOverflow(by: dtype.byteSize)
            guard !o3, endBytes <= byteRange.count else {
                throw bad("shape \(shape), strides \(strides), offset \(storageOffset) reach past its "
                    + "\(byteRange.count / dtype.byteSize)-element storage")
            }
        }
        self.name = name; self.dtype = dtype; self.shape = shape; self.strides = strides
        self.storageOffset = storageOffset; self.storage = storage; self.byteRange = byteRange
    }

    /// A contiguous tensor that owns a copy of `bytes`.
    public init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) throws {
        let s = ByteStorage(bytes)
        try self.init(name: name, dtype: dtype, shape: shape, storage: s, byteRange: 0..<s.count)
        guard bytes.count == elementCount * dtype.byteSize else {
            throw ModelIOError.malformed(path: name, reason: "\(bytes.count) bytes for shape \(shape) of \(dtype.rawValue)")
        }
    }

    /// A contiguous f32 tensor holding `values`.
    public init(name: String, shape: [Int], floats values: [Float]) throws {
        let bytes = values.withUnsafeBytes { Array($0) }
        try self.init(name: name, dtype: .f32, shape: shape, bytes: bytes)
    }

    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = acc
            acc = acc &* max(shape[i], 1)
        }
        return strides
    }

    /// Product of `shape`, or nil on overflow.
    public static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            let (m, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = m
        }
        return n
    }

    public var elementCount: Int { TensorData.elementCount(shape) ?? 0 }
    public var byteCount: Int { elementCount * dtype.byteSize }

    /// True when the elements are laid out row-major without gaps.
    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// Calls `body` with the tensor's bytes in contiguous row-major order: the mapping itself when
    /// the tensor is contiguous, else a temporary gathered copy.
    public func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = byteRange.lowerBound + storageOffset * dtype.byteSize
        if isContiguous || elementCount == 0 {
            let raw = UnsafeRawBufferPointer(rebasing: storage.buffer[start..<(start + (elementCount == 0 ? 0 : byteCount))])
            return try body(raw)
        }
        var out = [UInt8](repeating: 0, count: byteCount)
        out.withUnsafeMutableBytes { dst in gather(into: dst) }
        return try out.withUnsafeBytes(body)
    }

    /// The bytes in contiguous row-major order, as an array.
    public func contiguousBytes() -> [UInt8] { withContiguousBytes { Array($0) } }

    /// Copies a strided view element by element into `dst` (row-major).
    private func gather(into dst: UnsafeMutableRawBufferPointer) {
        let es = dtype.byteSize
        let src = storage.buffer.baseAddress! + byteRange.lowerBound
        let rank = shape.count
        var index = [Int](repeating: 0, count: rank)
        var srcElement = storageOffset
        for k in 0..<elementCount {
            (dst.baseAddress! + k * es).copyMemory(from: src + srcElement * es, byteCount: es)
            // Advance the multi-index like an odometer.
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                srcElement += strides[d]
                if index[d] < shape[d] { break }
                srcElement -= strides[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }

    /// Values as Float32 in row-major order; f16/bf16/f64 are converted, integers refused.
    public func floats() throws -> [Float] {
        guard dtype.isFloatingPoint else { throw ModelIOError.dtypeMismatch(name: name, dtype: dtype, wanted: "Float") }
        return try [Float](unsafeUninitializedCapacity: elementCount) { out, initialized in
            if let base = out.baseAddress { cpu_kernels_advise_huge_pages(base, out.count * MemoryLayout<Float>.stride) }
            try copyFloats(into: out)
            initialized = out.count
        }
    }

    /// Writes the values as Float32, row-major, into `out` (exactly `elementCount` long): for an
    /// engine that owns its weight buffers.
    public func copyFloats(into out: UnsafeMutableBufferPointer<Float>) throws {
        guard dtype.isFloatingPoint else { throw ModelIOError.dtypeMismatch(name: name, dtype: dtype, wanted: "Float") }
        let n = elementCount
        guard out.count == n else {
            throw ModelIOError.malformed(path: name, reason: "destination holds \(out.count) floats, the tensor \(n)")
        }
        guard n > 0 else { return }
        withContiguousBytes { raw in
            switch dtype {
            case .f32:
                UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: raw.baseAddress!, byteCount: n * 4)
            case .f16:
                for i in 0..<n { out[i] = FloatBits.f16ToFloat(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
            case .bf16:
                for i in 0..<n { out[i] = FloatBits.bf16ToFloat(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
            case .f64:
                for i in 0..<n { out[i] = Float(raw.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
            default: break
            }
        }
    }

    /// Values as raw bfloat16 bit patterns: bf16 tensors as stored, f32/f16/f64 rounded to nearest even.
    /// For kernels that keep weights in bf16.
    public func bf16Bits() throws -> [UInt16] {
        if dtype == .bf16 {
            let n = elementCount
            return withContiguousBytes { raw in (0..<n).map { raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self) } }
        }
        return try floats().map(FloatBits.floatToBF16)
    }

    /// Integer and bool tensors as Int64.
    public func int64s() throws -> [Int64] {
        let n = elementCount
        return try withContiguousBytes { raw in
            switch dtype {
            case .i64: return (0..<n).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self) }
            case .i32: return (0..<n).map { Int64(raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
            case .i16: return (0..<n).map { Int64(raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self)) }
            case .i8: return (0..<n).map { Int64(Int8(bitPattern: raw[$0])) }
            case .u8: return (0..<n).map { Int64(raw[$0]) }
            case .bool: return (0..<n).map { raw[$0] != 0 ? 1 : 0 }
            default: throw ModelIOError.dtypeMismatch(name: name, dtype: dtype, wanted: "Int64")
            }
        }
    }
}
