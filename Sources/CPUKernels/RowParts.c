#include "CPUKernels.h"

/// A part's remaining rows [lo, hi) in one 64-bit word (lo in the high half), so the owner taking
/// from the front and a thief taking from the back agree through a single compare-and-swap.
static inline uint64_t *part_word(void *parts, long i) { return (uint64_t *)((char *)parts + i * CPU_KERNELS_ROW_PART_BYTES); }

static inline uint64_t pack(long lo, long hi) { return (uint64_t)lo << 32 | (uint64_t)hi; }

void cpu_kernels_row_parts_init(void *parts, long count, long rows) {
    for (long i = 0; i < count; i++) {
        // Boundaries on multiples of 16 rows: 16 floats of y are one cache line, so no two threads
        // write the same line (the last part takes the remainder).
        const long lo = i * rows / count / 16 * 16, hi = i + 1 == count ? rows : (i + 1) * rows / count / 16 * 16;
        __atomic_store_n(part_word(parts, i), pack(lo, hi), __ATOMIC_RELAXED);
    }
}

/// Takes rows from part `i`: `chunk` from the front (its owner), or the upper half of what is left,
/// at least 16 rows (a thief). 0 when the part is empty.
static int take(void *parts, long i, int front, long chunk, long *start, long *end) {
    uint64_t *word = part_word(parts, i);
    uint64_t r = __atomic_load_n(word, __ATOMIC_ACQUIRE);
    for (;;) {
        const long lo = (long)(r >> 32), hi = (long)(r & 0xFFFFFFFFu);
        if (lo >= hi) return 0;
        long s, e;
        if (front) {
            s = lo;
            e = hi - lo > chunk ? lo + chunk : hi;
        } else {
            s = lo + (hi - lo) / 2 / 16 * 16;
            e = hi;
        }
        const uint64_t next = front ? pack(e, hi) : pack(lo, s);
        if (__atomic_compare_exchange_n(word, &r, next, 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            *start = s;
            *end = e;
            return 1;
        }
    }
}

int cpu_kernels_row_parts_take(void *parts, long count, long self, long chunk, long *start, long *end) {
    if (take(parts, self, 1, chunk, start, end)) return 1;
    for (long k = 1; k < count; k++) {
        if (!take(parts, (self + k) % count, 0, chunk, start, end)) continue;
        // The stolen rows become this thread's part, taken a chunk at a time like its own, so that
        // the thread it came from can take some back when it runs out first. A plain store: this
        // part is empty, and no thread changes an empty part but its owner.
        if (*end - *start > chunk) {
            __atomic_store_n(part_word(parts, self), pack(*start + chunk, *end), __ATOMIC_RELEASE);
            *end = *start + chunk;
        }
        return 1;
    }
    return 0;
}
