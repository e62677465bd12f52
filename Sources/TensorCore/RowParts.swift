import CPUKernels

/// The output rows of a one-row product shared across the pool's threads
/// (`cpu_kernels_row_parts_take`): each thread streams its own part in order, then takes over
/// what is left of the others', so the product ends when the rows do rather than when the slowest
/// thread's fixed half does.
struct RowParts {
    let words: UnsafeMutableRawPointer
    let count: Int
    /// Rows an owner takes at a time: about 64 KB of weights, a multiple of 16 rows.
    let chunk: Int

    /// Runs `body` with the parts of `rows` rows for `count` threads, kept on the stack (decoding
    /// allocates nothing per token).
    static func with(count: Int, rows: Int, rowBytes: Int, _ body: (RowParts) -> Void) {
        let size = count * Int(CPU_KERNELS_ROW_PART_BYTES)
        withUnsafeTemporaryAllocation(byteCount: size, alignment: Int(CPU_KERNELS_ROW_PART_BYTES)) { buffer in
            cpu_kernels_row_parts_init(buffer.baseAddress, count, rows)
            body(RowParts(words: buffer.baseAddress!, count: count, chunk: max(16, (1 << 16) / max(rowBytes, 1) / 16 * 16)))
        }
    }

    /// Calls `body` with each range of rows that task `index` takes, until none are left.
    @inline(__always)
    func forEach(task index: Int, _ body: (Range<Int>) -> Void) {
        var start = 0, end = 0
        while cpu_kernels_row_parts_take(words, count, index, chunk, &start, &end) != 0 { body(start..<end) }
    }
}
