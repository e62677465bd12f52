import XCTest
@testable import TensorCore

/// The compact weight formats: encodings, and products (one-row SIMD kernels, multi-row tiles)
/// against an fp32 product over the DEQUANTISED weights, so the only error left is summation order.
final class WeightMatrixTests: XCTestCase {
    /// A random `[rows, columns]` matrix in `format`, and its dequantised fp32 values. With
    /// `fp32Scales`, a q8 matrix as files converted before fp16 scales hold it: each scale in fp32,
    /// nudged off the fp16 grid so a kernel that read it as fp16 would be caught.
    private func matrix(_ rows: Int, _ columns: Int, _ format: WeightFormat, seed: UInt64, fp32Scales: Bool = false) throws -> (WeightMatrix, [Float]) {
        var generator = RandomGenerator(seed: seed)
        let source = Tensor.randn([rows, columns], std: 0.5, generator: &generator)
        var m = try WeightMatrix(source).converted(to: format)
        if fp32Scales, case let .q8(values, scales) = m.storage {
            let blocks = rows * columns / WeightFormat.q8BlockSize
            let buffer = WeightBuffer(byteCount: rows * columns + 4 * blocks)
            buffer.pointer.copyMemory(from: values, byteCount: rows * columns)
            let wide = (buffer.pointer + rows * columns).bindMemory(to: Float.self, capacity: blocks)
            for b in 0..<blocks { wide[b] = scales[b] * (1 + 0x1p-15) }
            m = WeightMatrix(rows: rows, columns: columns, storage: .q8(values: UnsafeRawPointer(buffer.pointer), scales: Q8Scales(UnsafeRawPointer(wide), half: false)), owner: buffer)
            XCTAssertEqual(m.byteCount, rows * columns + 4 * blocks)
            // The dequantised weights from the codes and the fp32 scales directly, not through `row`.
            let codes = buffer.pointer.assumingMemoryBound(to: Int8.self)
            return (m, (0..<(rows * columns)).map { Float(codes[$0]) * wide[$0 / WeightFormat.q8BlockSize] })
        }
        var dense = [Float](repeating: .nan, count: rows * columns)
        dense.withUnsafeMutableBufferPointer { d in for r in 0..<rows { m.row(r, into: d.baseAddress! + r * columns) } }
        return (m, dense)
    }

    /// `x·Wᵀ + b` in Double, and `Σ|x·w|` per output (the scale the rounding error is relative to).
    private func reference(_ w: [Float], _ x: [Float], bias: [Float]?, n: Int, rows: Int, columns: Int) -> (value: [Float], magnitude: [Float]) {
        var value = [Float](), magnitude = [Float]()
        for i in 0..<n {
            for r in 0..<rows {
                var s = Double(bias?[r] ?? 0), m = abs(Double(bias?[r] ?? 0))
                for c in 0..<columns {
                    let p = Double(x[i * columns + c]) * Double(w[r * columns + c])
                    s += p; m += abs(p)
                }
                value.append(Float(s)); magnitude.append(Float(m))
            }
        }
        return (value, magnitude)
    }

    private func check(_ format: WeightFormat, rows: Int, columns: Int, n: Int, bias: Bool, threads: Int, seed: UInt64,
                       fp32Scales: Bool = false) throws {
        let (m, dense) = try matrix(rows, columns, format, seed: seed, fp32Scales: fp32Scales)
        var generator = RandomGenerator(seed: seed + 1)
        let x = Tensor.randn([n * columns], generator: &generator).values
        let b = bias ? Tensor.randn([rows], generator: &generator).values : nil
        var out = [Float](repeating: .nan, count: n * rows)
        x.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                if let b {
                    b.withUnsafeBufferPointer { pb in m.product(px.baseAddress!, rows: n, into: po.baseAddress!, bias: pb.baseAddress!) }
                } else {
                    m.product(px.baseAddress!, rows: n, into: po.baseAddress!)
                }
            }
        }
        let (want, magnitude) = reference(dense, x, bias: b, n: n, rows: rows, columns: columns)
        for i in 0..<out.count where !(abs(out[i] - want[i]) <= 1e-5 * magnitude[i] + 1e-30) {
            XCTFail("\(format)\(fp32Scales ? " (fp32 scales)" : "") [\(rows), \(columns)] n=\(n) bias=\(bias) threads=\(threads): output \(i) is \(out[i]), expected \(want[i]) (scale \(magnitude[i]))")
            return
        }
    }

    func testProductsAgreeWithFP32OnDequantisedWeights() throws {
        let saved = Threads.count
        defer { Threads.count = saved }
        // One row (decode: SIMD kernels, split over threads when big) and several rows (tiles + sgemm),
        // with row counts that are not whole tiles or whole thread blocks (70: a 64-row tile and a rest).
        let shapes = [(1, 32), (17, 64), (130, 96), (300, 768), (70, 3072)]
        var seed: UInt64 = 1
        let savedKernels = KernelChoice.current
        defer { savedKernels.apply() }
        for threads in [1, 2, 3] {
            Threads.count = threads
            // Each format on every one-row kernel this CPU runs (`KernelChoice`, as `bench opt
            // --all-kernels` times them): the portable Swift ones; AVX2; where the CPU has AVX-512,
            // bf16 on both of its (the full-width CPUs' four streams, Zen 4's one row) and q8 on its
            // four streams and, with VNNI, the integer kernel. Several rows take the tiles.
            for format in WeightFormat.allCases {
                for choice in KernelChoice.available(for: format) {
                    choice.apply()
                    for (rows, columns) in shapes {
                        for n in rows * columns > 50_000 ? [1, 5, 13] : [1, 2, 7, 33, 70] {
                            seed += 2
                            try check(format, rows: rows, columns: columns, n: n, bias: seed % 4 == 1, threads: threads, seed: seed)
                            // q8 with the fp32 scales of older files: one-row and multi-row products alike.
                            if format == .q8, n <= 7 {
                                try check(format, rows: rows, columns: columns, n: n, bias: seed % 4 == 3, threads: threads, seed: seed, fp32Scales: true)
                            }
                        }
                    }
                }
            }
        }
        // bf16 rows that are not a multiple of 16 or 32 (scalar tails), one input row and several, on every kernel.
        for choice in KernelChoice.available(for: .bf16) {
            choice.apply()
            for columns in [1, 15, 50, 70] {
                for n in [1, 7] { try check(.bf16, rows: 9, columns: columns, n: n, bias: true, threads: Threads.count, seed: 99) }
            }
        }
    }

    /// The integer q8 kernel (x held to 21 bits of each block's largest |x|) where it matters most:
    /// every block's first column 50× the others in x and zero in the weights, so that the rounding
    /// of x's other columns is as large as it gets against Σ|x·w|. Still within 1e-5 of it, on one
    /// thread and shared by two. And x it does not take (NaN, an infinity, a block below 2^-96) goes
    /// through the float kernel: the same outputs bit for bit as with the integer kernel off.
    func testQ8IntegerKernelOnOutliersAndOnInputsItDoesNotTake() throws {
        guard NativeKernels.q8VNNISupported, NativeKernels.enabled else { throw XCTSkip("the CPU has no AVX-512 VNNI") }
        let savedVNNI = NativeKernels.q8VNNI, savedThreads = Threads.count
        defer { NativeKernels.q8VNNI = savedVNNI; Threads.count = savedThreads }
        NativeKernels.q8VNNI = true
        let rows = 300, columns = 768
        var generator = RandomGenerator(seed: 41)
        var w = Tensor.randn([rows, columns], std: 0.5, generator: &generator).values
        for r in 0..<rows { for c in stride(from: 0, to: columns, by: 32) { w[r * columns + c] = 0 } }
        let m = try WeightMatrix(Tensor(shape: [rows, columns], values: w)).converted(to: .q8)
        var dense = [Float](repeating: .nan, count: rows * columns)
        dense.withUnsafeMutableBufferPointer { d in for r in 0..<rows { m.row(r, into: d.baseAddress! + r * columns) } }
        var x = Tensor.randn([columns], generator: &generator).values
        for c in stride(from: 0, to: columns, by: 32) { x[c] *= 50 }
        func product(_ x: [Float]) -> [Float] {
            var out = [Float](repeating: .nan, count: rows)
            x.withUnsafeBufferPointer { px in out.withUnsafeMutableBufferPointer { m.product(px.baseAddress!, rows: 1, into: $0.baseAddress!) } }
            return out
        }
        let (want, magnitude) = reference(dense, x, bias: nil, n: 1, rows: rows, columns: columns)
        for threads in [1, 2] {
            Threads.count = threads
            let out = product(x)
            for i in 0..<rows where !(abs(out[i] - want[i]) <= 1e-5 * magnitude[i]) {
                XCTFail("threads=\(threads): output \(i) is \(out[i]), expected \(want[i]) (scale \(magnitude[i]))")
                return
            }
        }
        var special: [(String, [Float])] = []
        for (name, value) in [("NaN", Float.nan), ("infinity", -Float.infinity)] {
            var y = x
            y[100] = value
            special.append((name, y))
        }
        var tiny = x
        for c in 64..<96 { tiny[c] = 1e-31 * Float(c - 80) }
        special.append(("a block below 2^-96", tiny))
        for (name, input) in special {
            NativeKernels.q8VNNI = true
            let integer = product(input)
            NativeKernels.q8VNNI = false
            let float = product(input)
            XCTAssertEqual(integer.map(\.bitPattern), float.map(\.bitPattern), name)
        }
        XCTAssertTrue(product(special[0].1).allSatisfy(\.isNaN))
    }

    func testBF16RoundsToNearestEven() {
        XCTAssertEqual(WeightEncoding.bf16(1), 0x3F80)
        XCTAssertEqual(WeightEncoding.bf16(Float(bitPattern: 0x3F80_8000)), 0x3F80)   // tie, even stays
        XCTAssertEqual(WeightEncoding.bf16(Float(bitPattern: 0x3F81_8000)), 0x3F82)   // tie, odd rounds up
        XCTAssertEqual(WeightEncoding.bf16(Float(bitPattern: 0x3F80_8001)), 0x3F81)
        XCTAssertEqual(WeightEncoding.bf16(-2.5), 0xC020)
        XCTAssertTrue(WeightEncoding.float(bf16: WeightEncoding.bf16(.nan)).isNaN)
        XCTAssertEqual(WeightEncoding.float(bf16: 0x3F82), Float(bitPattern: 0x3F82_0000))
    }

    func testQ8BlocksAreScaledByTheirLargestWeight() throws {
        func quantise(_ w: [Float]) throws -> (scale: UInt16, codes: [Int8]) {
            var q = [Int8](repeating: 99, count: 32)
            let scale = try w.withUnsafeBufferPointer { pw in try q.withUnsafeMutableBufferPointer { try WeightEncoding.q8Block(pw.baseAddress!, values: $0.baseAddress!) } }
            return (scale, q)
        }
        var w = (0..<32).map { Float($0 - 16) / 4 }     // −4 … 3.75
        let (bits, q) = try quantise(w)
        // The scale is the smallest fp16 at or above 4/127: the one below it is under.
        let scale = WeightEncoding.float(half: bits)
        XCTAssertGreaterThanOrEqual(scale, 4 / 127)
        XCTAssertLessThan(WeightEncoding.float(half: bits - 1), 4 / 127)
        XCTAssertEqual(bits, 0x2809)                   // 2^-5 · (1 + 9/1024), worked by hand
        XCTAssertEqual(q[0], -127)
        XCTAssertEqual(q[16], 0)
        XCTAssertEqual(q[31], Int8((3.75 / scale).rounded()))
        for i in 0..<32 { XCTAssertLessThanOrEqual(abs(Float(q[i]) * scale - w[i]), scale / 2, "column \(i)") }
        // An all-zero block has scale 0 and codes 0; a non-finite weight is refused, not trapped on.
        w = [Float](repeating: 0, count: 32)
        let zero = try quantise(w)
        XCTAssertEqual(zero.scale, 0)
        XCTAssertEqual(zero.codes, [Int8](repeating: 0, count: 32))
        w[3] = .infinity
        XCTAssertThrowsError(try quantise(w))
        // Weights beyond what an fp16 scale reaches (127 × 65504) are refused with a way out.
        w[3] = 1e7
        XCTAssertThrowsError(try quantise(w)) { error in XCTAssertTrue("\(error)".contains("bf16 or f32"), "\(error)") }
        w[3] = 127 * 65504
        XCTAssertEqual(try quantise(w).codes[3], 127)
        // Tiny blocks get a subnormal fp16 scale and keep every code within ±127.
        for largest: Float in [1e-9, 3e-7, 5e-6, 6e-3] {
            w = (0..<32).map { largest * Float($0 - 20) / 20 }
            let (bits, codes) = try quantise(w)
            let s = WeightEncoding.float(half: bits)
            XCTAssertGreaterThanOrEqual(s, largest / 127)
            XCTAssertTrue(codes.allSatisfy { abs(Int($0)) <= 127 })
            for i in 0..<32 { XCTAssertLessThanOrEqual(abs(Float(codes[i]) * s - w[i]), s / 2, "largest \(largest), column \(i)") }
        }
    }

    func testHalfConversions() {
        // Exact values stay; others go to the next fp16 up; past 65504 there is none.
        XCTAssertEqual(WeightEncoding.halfRoundingUp(1), 0x3C00)
        XCTAssertEqual(WeightEncoding.halfRoundingUp(0), 0)
        XCTAssertEqual(WeightEncoding.halfRoundingUp(65504), 0x7BFF)
        XCTAssertNil(WeightEncoding.halfRoundingUp(65505))
        XCTAssertNil(WeightEncoding.halfRoundingUp(1e30))
        XCTAssertEqual(WeightEncoding.halfRoundingUp(Float(bitPattern: 0x3F80_0001)), 0x3C01)
        XCTAssertEqual(WeightEncoding.halfRoundingUp(0x1p-24), 0x0001)       // the smallest subnormal
        XCTAssertEqual(WeightEncoding.halfRoundingUp(0x1p-30), 0x0001)
        XCTAssertEqual(WeightEncoding.halfRoundingUp(0x1p-14), 0x0400)       // the smallest normal
        XCTAssertEqual(WeightEncoding.halfRoundingUp(0x1p-14 * (1 - 0x1p-11)), 0x0400)
        XCTAssertEqual(WeightEncoding.halfRoundingUp(0x1.8p-20), 0x0018)     // 24 · 2^-24
        // Every fp16 bit pattern widens exactly and rounds back to itself.
        for h in UInt16(0)..<0x7C00 {
            let f = WeightEncoding.float(half: h)
            XCTAssertEqual(WeightEncoding.halfRoundingUp(f), h, "\(h)")
            if h > 0 { XCTAssertEqual(WeightEncoding.halfRoundingUp(f.nextDown), h, "just under \(h)") }
        }
        XCTAssertEqual(WeightEncoding.float(half: 0x7C00), .infinity)
        XCTAssertEqual(WeightEncoding.float(half: 0xC000), -2)
        XCTAssertTrue(WeightEncoding.float(half: 0x7E00).isNaN)
    }

    func testDequantisedWeightsAreCloseToTheOriginals() throws {
        var generator = RandomGenerator(seed: 3)
        let source = Tensor.randn([8, 64], generator: &generator)
        let q8 = try WeightMatrix(source).converted(to: .q8), bf16 = try WeightMatrix(source).converted(to: .bf16)
        var row = [Float](repeating: 0, count: 64)
        for r in 0..<8 {
            let original = Array(source.values[(r * 64)..<((r + 1) * 64)])
            row.withUnsafeMutableBufferPointer { q8.row(r, into: $0.baseAddress!) }
            for block in 0..<2 {
                let range = (block * 32)..<((block + 1) * 32)
                // The step is the fp16 scale, at most 2^-10 over max|w| / 127.
                let step = original[range].map(abs).max()! / 127 * (1 + 0x1p-10)
                for i in range { XCTAssertLessThanOrEqual(abs(row[i] - original[i]), step / 2 * 1.0001, "q8 row \(r) column \(i)") }
            }
            row.withUnsafeMutableBufferPointer { bf16.row(r, into: $0.baseAddress!) }
            for i in 0..<64 { XCTAssertLessThanOrEqual(abs(row[i] - original[i]), abs(original[i]) / 256, "bf16 row \(r) column \(i)") }
        }
    }

    func testQ8NeedsWholeBlocks() throws {
        let t = Tensor.zeros([4, 48])
        XCTAssertThrowsError(try WeightMatrix(t).converted(to: .q8)) { error in
            XCTAssertTrue("\(error)".contains("blocks of 32"), "\(error)")
        }
        XCTAssertEqual(try WeightMatrix(t).converted(to: .bf16).format, .bf16)
    }

    func testRowViewsAndSizes() throws {
        for (format, fp32Scales) in WeightFormat.allCases.map({ ($0, false) }) + [(.q8, true)] {
            let (m, dense) = try matrix(96, 64, format, seed: 7, fp32Scales: fp32Scales)
            let part = m.rows(32..<64)
            XCTAssertEqual(part.rows, 32)
            var row = [Float](repeating: 0, count: 64)
            row.withUnsafeMutableBufferPointer { part.row(5, into: $0.baseAddress!) }
            XCTAssertEqual(row, Array(dense[(37 * 64)..<(38 * 64)]), "\(format) \(fp32Scales)")
            if !fp32Scales { XCTAssertEqual(m.byteCount, Int(Double(96 * 64) * format.bytesPerWeight), "\(format)") }
        }
    }

    func testWeightSlabsPackBuffersApartAndLiveAsLongAsTheirBuffers() {
        // A slab hands out its bytes in order, each piece 64-byte aligned, until too few are left.
        let slab = WeightSlab(capacity: WeightSlab.page)
        XCTAssertEqual(Int(bitPattern: slab.base) % WeightSlab.page, 0)
        let sizes = [128, 64, 1_179_648, 4096]
        let pieces = sizes.map { slab.take($0)! }
        XCTAssertEqual(pieces.map { $0 - slab.base }, [0, 128, 192, 1_179_840])
        XCTAssertNil(slab.take(WeightSlab.page - 1_183_936 + 64))
        XCTAssertNotNil(slab.take(WeightSlab.page - 1_183_936))
        // Buffers: 64-byte aligned, never overlapping (each keeps what was written to it).
        let buffers = [100, 1, 4096, 1_179_648, 63, WeightSlab.size / 2 + 1].map { WeightBuffer(byteCount: $0) }
        for (k, b) in buffers.enumerated() {
            XCTAssertEqual(Int(bitPattern: b.pointer) % 64, 0)
            b.pointer.initializeMemory(as: UInt8.self, repeating: UInt8(k + 1), count: b.byteCount)
        }
        for (k, b) in buffers.enumerated() {
            XCTAssertTrue(UnsafeRawBufferPointer(start: b.pointer, count: b.byteCount).allSatisfy { $0 == UInt8(k + 1) }, "buffer \(k) overwritten")
        }
        // A buffer over half a slab gets a slab of its own, in whole 2 MB pages, freed with it.
        XCTAssertFalse(buffers[5].slab === buffers[0].slab)
        XCTAssertEqual(buffers[5].slab.capacity, WeightSlab.size / 2 + WeightSlab.page)
        weak var released: WeightSlab?
        do {
            let large = WeightBuffer(byteCount: WeightSlab.size)
            released = large.slab
            XCTAssertNotNil(released)
        }
        XCTAssertNil(released, "a slab outlived its last buffer")
        // Parameters made to be loaded take zeros from slabs too, never bytes handed out before.
        let a = Storage(zeroedCount: 70_000), b = Storage(zeroedCount: 70_000)
        XCTAssertEqual(Int(bitPattern: a.pointer) % 64, 0)
        a.pointer.update(repeating: 1, count: a.count)
        XCTAssertTrue(UnsafeBufferPointer(start: b.pointer, count: b.count).allSatisfy { $0 == 0 })
        XCTAssertTrue(UnsafeBufferPointer(start: a.pointer, count: a.count).allSatisfy { $0 == 1 })
    }
}
