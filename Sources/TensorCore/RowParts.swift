import CPUKernels

/// The output rows of a one-row product shared across the pool's threads
/// (`cpu_kernels_row_parts_take`): each thread streams its own part in order, then takes over
/// the upper half of what is left of another's, which becomes its own part (so the other can take
/// some back in turn). The product ends when the rows do rather than when the slowest thread's
/// fixed half does, to within a chunk.
struct RowParts {
    let words: UnsafeMutableRawPointer
    let count: Int
    /// Rows an owner takes at a time: about 64 KB of weights, a multiple of 16 rows.
    let chunk: Int

    /// Runs `body` with the parts of `rows` rows for `count` threads, kept on the stack (decoding
    /// allocates nothing per token). With `wholeParts` each thread takes its part in one range, as
    /// the fixed halves before: the four-stream kernels read streams a quarter of their range apart,
    /// measured so on Intel; on AMD Zen 4 the integer q8 kernel's four streams in 64 KB shares
    /// decoded 0.84× as fast as in whole parts (one run, 12 rounds; BENCHMARKS.md).
    static func with(count: Int, rows: Int, rowBytes: Int, wholeParts: Bool = false, _ body: (RowParts) -> Void) {
        let line = Int(CPU_KERNELS_ROW_PART_BYTES)
        let chunk = wholeParts ? rows : max(16, (1 << 16) / max(rowBytes, 1) / 16 * 16)
        // One line more than the parts need, aligned by hand: asked for 64-byte alignment, the
        // temporary went to the heap (a malloc per product, found by GenerationAllocationTests); at
        // the default alignment it stays on the stack up to 1 KB (15 parts).
        withUnsafeTemporaryAllocation(byteCount: (count + 1) * line, alignment: 16) { buffer in
            let words = buffer.baseAddress!.alignedUp(toMultipleOf: line)
            cpu_kernels_row_parts_init(words, count, rows)
            body(RowParts(words: words, count: count, chunk: chunk))
        }
    }

    /// Calls `body` with each range of rows that task `index` takes, until none are left.
    @inline(__always)
    func forEach(task index: Int, _ body: (Range<Int>) -> Void) {
        var start = 0, end = 0
        while cpu_kernels_row_parts_take(words, count, index, chunk, &start, &end) != 0 { body(start..<end) }
    }
}
