import Foundation

extension WeightMatrix {
    /// `out[n, rows] = x[n, columns]·Wᵀ (+ bias)`: a `Linear` layer's product.
    ///
    /// - fp32 weights go to BLAS as before (sgemv for one row, threaded sgemm otherwise).
    /// - One row of compact weights (decoding): the SIMD dot kernels, output rows shared across the
    ///   thread pool (`RowParts`) like `BLAS.gemvRows`.
    /// - Several rows of compact weights (a prompt, a batch of sentences): where our few-rows tiles
    ///   take the product, each thread packs the input once and takes 48 output rows at a time,
    ///   widened into its own buffers (`BLAS.widenedLinear`); elsewhere tiles of `tileRows` output
    ///   rows are widened into a per-thread scratch tile and multiplied with sgemm. The fp32 copy
    ///   never exceeds one tile per thread either way.
    /// The input rows are first put in the kernels' lane order (`WeightKernels.permute`; one row of
    /// q8 on the integer kernel, in its digits: `WeightKernels.prepareRow`), once per call.
    public func product(_ x: UnsafePointer<Float>, rows n: Int, into out: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>? = nil) {
        guard n > 0, rows > 0 else { return }
        if case let .f32(w) = storage {
            BLAS.linear(m: n, n: rows, k: columns, a: x, lda: columns, w: w, ldw: columns, c: out, ldc: rows, bias: bias)
        } else if n == 1 {
            gemv(x, out, bias: bias)
        } else {
            tiledProduct(x, rows: n, out, bias: bias)
        }
    }

    /// Output rows per tile of the multi-row product.
    static let tileRows = 64

    /// Arguments of one product, passed to the pool's tasks by pointer (no allocation).
    private struct Arguments {
        let storage: Storage
        let rows, columns, n: Int
        let x: UnsafePointer<Float>                  // in the kernels' lane order (`WeightKernels.permute`)
        let out: UnsafeMutablePointer<Float>
        let bias: UnsafePointer<Float>?
        let block: Int                               // output rows per task
        let scratch: UnsafeMutablePointer<Float>?    // tileRows × columns floats per task
    }

    /// Arguments of a one-row product's tasks.
    private struct GemvArguments {
        let storage: Storage
        let columns: Int
        let input: WeightKernels.RowInput
        let y: UnsafeMutablePointer<Float>
        let bias: UnsafePointer<Float>?
        let parts: RowParts
    }

    private func gemv(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?) {
        let tasks = rows * columns < 1 << 16 ? 1 : min(Threads.shared.threadCount, (rows + 15) / 16)
        TileScratch.with(count: WeightKernels.preparedCount(columns: columns)) { scratch in
            let input = WeightKernels.prepareRow(x, columns: columns, for: storage, into: scratch)
            if tasks == 1 {
                WeightKernels.gemvRows(storage, columns: columns, 0..<rows, input: input, y: y, bias: bias)
                return
            }
            let fourStreams = WeightKernels.readsFourStreams(storage)   // whole parts: see RowParts
            RowParts.with(count: tasks, rows: rows, rowBytes: byteCount / rows, wholeParts: fourStreams) { parts in
                var args = GemvArguments(storage: storage, columns: columns, input: input, y: y, bias: bias, parts: parts)
                Threads.shared.run(tasks, context: &args) { context, i in
                    let a = context!.assumingMemoryBound(to: GemvArguments.self).pointee
                    a.parts.forEach(task: i) { range in
                        WeightKernels.gemvRows(a.storage, columns: a.columns, range, input: a.input, y: a.y, bias: a.bias)
                    }
                }
            }
        }
    }

    /// What `widenedLinear`'s callback needs to widen this matrix's rows.
    private struct Widening {
        let storage: Storage
        let columns: Int
    }

    private func tiledProduct(_ x: UnsafePointer<Float>, rows n: Int, _ out: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?) {
        // Our few-rows tiles: the threads take 48 rows at a time, widened into their own buffers,
        // and pack the input once each (below, every 64-row tile packs it again: 64-token prefill
        // 1.17x faster in bf16, 1.22x in q8).
        var widened = false
        if BLAS.takesWidenedRows(m: n, k: columns) { TileScratch.with(count: n * columns) { xp in
            for r in 0..<n { WeightKernels.permute(x + r * columns, columns: columns, for: storage, into: xp + r * columns) }
            var widening = Widening(storage: storage, columns: columns)
            widened = withUnsafeMutablePointer(to: &widening) { context in
                BLAS.widenedLinear(m: n, n: rows, k: columns, a: xp, lda: columns, widen: { context, start, end, out in
                    let w = context!.assumingMemoryBound(to: Widening.self).pointee
                    WeightKernels.decodeTile(w.storage, columns: w.columns, start..<end, into: out!)
                }, context: context, c: out, ldc: rows, bias: bias)
            }
        } }
        if widened { return }
        let tile = Self.tileRows
        let tiles = (rows + tile - 1) / tile
        let tasks = n * rows * columns < 1 << 18 ? 1 : min(Threads.shared.threadCount, tiles)
        let block = (tiles + tasks - 1) / tasks * tile
        TileScratch.with(count: (tasks * tile + n) * columns) { scratch in
            let xp = scratch + tasks * tile * columns
            for r in 0..<n { WeightKernels.permute(x + r * columns, columns: columns, for: storage, into: xp + r * columns) }
            var args = Arguments(storage: storage, rows: rows, columns: columns, n: n, x: xp, out: out, bias: bias, block: block, scratch: scratch)
            Threads.shared.run((rows + block - 1) / block, context: &args) { context, i in
                let a = context!.assumingMemoryBound(to: Arguments.self).pointee
                let scratch = a.scratch! + i * WeightMatrix.tileRows * a.columns
                var start = i * a.block
                let end = min(start + a.block, a.rows)
                while start < end {
                    let size = min(WeightMatrix.tileRows, end - start)
                    WeightKernels.decodeTile(a.storage, columns: a.columns, start..<(start + size), into: scratch)
                    if let bias = a.bias {
                        for r in 0..<a.n { (a.out + r * a.rows + start).update(from: bias + start, count: size) }
                    }
                    BLAS.singleThreadLinear(m: a.n, n: size, k: a.columns, a: a.x, lda: a.columns, w: scratch,
                                            ldw: a.columns, c: a.out + start, ldc: a.rows, accumulate: a.bias != nil)
                    start += size
                }
            }
        }
    }
}

/// The scratch tiles of multi-row products: one grow-only buffer for the process, so prefill
/// allocates nothing after the first call. A lock keeps two concurrent products apart (they would
/// share the same cores anyway).
enum TileScratch {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var buffer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    nonisolated(unsafe) private static var capacity = 1

    static func with(count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        if count > capacity {
            buffer.deallocate()
            buffer = .allocate(capacity: count)
            capacity = count
        }
        body(buffer)
    }
}
