#ifndef CPU_KERNELS_H
#define CPU_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Kernels written with x86 intrinsics, compiled for AVX2+FMA by function attributes (no global
/// -march flag) and used only when the CPU has those features (`cpu_kernels_available`). The
/// Swift kernels in TensorCore/Weights remain the path everywhere else (Apple silicon, older x86).
///
/// q8 layout (WeightFormat.q8): `values` holds int8 codes row by row, `scales` one scale per block
/// of 32 consecutive codes of a row, fp16 bits when `half_scales` (GGUF Q8_0's width) and fp32
/// otherwise (files converted before), possibly unaligned; `columns` is a multiple of 32. Compute
/// is fp32: codes are widened to float and multiplied by their scale (exactly: a code has 8
/// significant bits, an fp16 scale 11); except in the integer q8 kernel below, which holds x to 21
/// bits of each block's largest value.

/// fp32 of fp16 bits, exactly: subnormals (m·2^-24) included, infinities and NaN kept. Portable C,
/// shared by the Swift modules (q8 scales in TensorCore, F16 tensors in ModelIO).
static inline float cpu_kernels_half_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, fraction = h & 0x3FF;
    union { uint32_t u; float f; } v;
    if (exponent == 0) {
        const float magnitude = (float)fraction * (1.0f / 16777216.0f);
        return sign ? -magnitude : magnitude;
    }
    v.u = sign | (exponent == 0x1F ? 0x7F800000u | (fraction << 13) : ((exponent + 112) << 23) | (fraction << 13));
    return v.f;
}

/// 1 when this CPU runs the AVX2+FMA kernels below (and has F16C, for fp16 scales).
int cpu_kernels_available(void);

/// 1 when this CPU has the AVX-512 subset (F, BW, VL, DQ) of the one-row products' 512-bit
/// versions: each of the three below runs them when called with `wide` 1 (only where this is 1; the
/// caller decides, `NativeKernels.avx512`, for CPUs that run 512-bit operations at full width), and
/// its AVX2 version with 0.
int cpu_kernels_avx512_available(void);

/// y[r] = bias[r] (or 0) + Σ_c code[r][c]·scale[r][c/32]·x[c] for r in [start, end); x in natural order.
void cpu_kernels_q8_gemv_rows(const int8_t *values, const void *scales, int half_scales, long columns, long start,
                              long end, const float *x, float *y, const float *bias, int wide);

/// q8 one-row products as integer dot products (Q8VNNI.c: x held as 21-bit integers per block of
/// 32 columns, at most 2^-21 of the block's largest |x| off): for AMD Zen 4. 1 when this CPU has
/// the AVX-512 subset above and AVX-512 VNNI.
int cpu_kernels_q8_vnni_available(void);
/// Bytes of a prepared x of `columns` (a multiple of 32) columns.
long cpu_kernels_q8_prepared_bytes(long columns);
/// x prepared for `cpu_kernels_q8_gemv_rows_vnni`, once per product, into `prepared`
/// (`cpu_kernels_q8_prepared_bytes` bytes, any alignment). Returns 0 where x holds a NaN or an
/// infinity, or a block's largest |x| is below 2^-96: then use `cpu_kernels_q8_gemv_rows`.
int cpu_kernels_q8_prepare_x(const float *x, long columns, void *prepared);
/// y[r] = bias[r] (or 0) + Σ_c code[r][c]·scale[r][c/32]·x[c] for r in [start, end), x prepared;
/// call only where `cpu_kernels_q8_vnni_available()`.
void cpu_kernels_q8_gemv_rows_vnni(const int8_t *values, const void *scales, int half_scales, long columns, long start,
                                   long end, const void *prepared, float *y, const float *bias);

/// Rows [start, end) widened to fp32 in natural order, one after another in `out`.
void cpu_kernels_q8_widen_rows(const int8_t *values, const void *scales, int half_scales, long columns, long start,
                               long end, float *out);

/// y[r] = bias[r] (or 0) + Σ_c w[r][c]·xp[c] for r in [start, end); bf16 rows, `xp` in the pair lane
/// order of WeightKernels (per 32 columns: the 16 even columns, then the 16 odd ones). `wide` 1 runs
/// the AVX-512 four-stream version as above; 2 an AVX-512 one-row version, for CPUs that have
/// AVX-512 but split its operations in halves (AMD Zen 4; call only where
/// `cpu_kernels_avx512_available()`); 0 the AVX2 one.
void cpu_kernels_bf16_gemv_rows(const uint16_t *weights, long columns, long start, long end,
                                const float *x, float *y, const float *bias, int wide);

/// y[r·inc_y] = W[r,:]·x (+ y[r·inc_y] when `accumulate`) for start ≤ r < end; W rows `ld` floats
/// apart, `columns` long, x contiguous. One row at a time (CPUKernels.c).
void cpu_kernels_f32_gemv_rows(const float *weights, long ld, long columns, long start, long end, const float *x,
                               float *y, long inc_y, int accumulate, int wide);

/// The output rows [0, rows) of a one-row product shared by `count` threads so that none waits
/// long for another: each thread takes its own part (row i·rows/count onwards) from the front,
/// `chunk` rows at a time, so it streams its rows in order; then it takes the upper half of what
/// is left of another part, which becomes its own part, taken from the front the same way (and
/// open to the others in turn), until every part is empty. A thread that starts late or reads
/// slower so does fewer rows: over fixed halves, OPT-125m decoding's caller waited 7–35 % of its
/// own time for the worker (AMD Zen 4 VM; BENCHMARKS.md). With the stolen half taken whole, the
/// threads still ended OPT-125m q8's LM head (50,272 rows) 3.7–11.8 µs apart on average (three
/// runs); taken a chunk at a time, 1.5–1.7 µs.
///
/// `parts` is `count` × CPU_KERNELS_ROW_PART_BYTES bytes, 64-byte aligned, set by `_init` before the
/// threads start; `rows` < 2^32. `_take` returns 0 when no rows are left, else 1 with [*start, *end)
/// taken (never empty; boundaries are multiples of 16 rows except at `rows`).
enum { CPU_KERNELS_ROW_PART_BYTES = 64 };
void cpu_kernels_row_parts_init(void *parts, long count, long rows);
int cpu_kernels_row_parts_take(void *parts, long count, long self, long chunk, long *start, long *end);

/// Row-major C[m,n] = op(A)·op(B) (+ C when `accumulate`), op(A) of shape [m,k] (A stored [k,m] when
/// `trans_a`), op(B) of shape [k,n] (B stored [n,k] when `trans_b`, a Linear weight's layout); one
/// thread, AVX2+FMA (SGEMM.c): call only where `cpu_kernels_available()`; with `wide`, in 512-bit
/// tiles: call only where `cpu_kernels_avx512_available()`. Returns 0, having done
/// nothing, when the thread's packing buffers (4.3 MB, allocated on its first call and kept until
/// the thread ends) cannot be allocated, and on CPUs other than x86-64.
int cpu_kernels_sgemm(int trans_a, int trans_b, long m, long n, long k, const float *a, long lda,
                      const float *b, long ldb, float *c, long ldc, int accumulate, int wide);

/// Whether `cpu_kernels_sgemm` takes this product by its few-rows path, which reads a Linear weight
/// (B stored [n,k]) in place against at most 256 rows instead of packing it; the same answer on
/// every CPU, so the choice of BLAS around it (BLAS.swift) can be tested anywhere.
int cpu_kernels_sgemm_reads_weight_in_place(int trans_a, int trans_b, long m, long k);

/// The few-rows product C[m,n] = A[m,k]·W[n,k]ᵀ (+ C when `accumulate`; + bias[j] on each row when
/// `bias` is not NULL: a Linear layer) shared by the `threads` threads that call it with the same
/// arguments: each packs A into its own buffers once, then takes shares of the weight's rows from
/// `*next` (zero before the first call; shares are multiples of `chunk` rows, shrinking as the rows
/// run out) until none are left, so a thread that starts late or reads slower takes fewer. Returns
/// 0, having taken none, where `cpu_kernels_sgemm_reads_weight_in_place(0, 1, m, k)` is false or
/// the buffers cannot be allocated; the product is complete when any call returned 1.
int cpu_kernels_sgemm_weight_rows_shared(long m, long n, long k, const float *a, long lda, const float *w, long ldw,
                                         float *c, long ldc, int accumulate, const float *bias, int wide, long threads,
                                         long chunk, long *next);

/// The same product for a weight stored compactly: each share of `chunk` weight rows is first
/// widened to fp32 by `widen(context, start, end, out)` (rows start..<end, `k` floats each, one after
/// another) into the thread's buffers, after its packed A, so A is packed once per thread instead
/// of once per tile. Returns 0, having taken none, where the few-rows path does not take the
/// product or A and a share do not fit the buffers.
int cpu_kernels_sgemm_widened_rows_shared(long m, long n, long k, const float *a, long lda,
                                          void (*widen)(void *context, long start, long end, float *out), void *context,
                                          float *c, long ldc, int accumulate, const float *bias, int wide, long chunk,
                                          long *next);

/// scores[j] = scale · (q · keys[j]) for j < count, key rows `stride` floats apart, `dim` floats
/// each (one attention head of one query; Attention.c).
void cpu_kernels_attention_scores(const float *q, const float *keys, long stride, long count, long dim,
                                  float scale, float *scores);

/// out[c] = Σ_{j<count} p[j] · values[j][c] for c < dim, value rows `stride` floats apart.
void cpu_kernels_attention_mix(const float *p, const float *values, long stride, long count, long dim, float *out);

/// One query against `count` cache rows, all `heads` heads of `dim` floats in a row, the rows read
/// in order: scores[h·ld + j] = scale · (q_h · keys[j]_h).
void cpu_kernels_attention_scores_rows(const float *q, const float *keys, long stride, long heads, long dim,
                                       long count, float scale, float *scores, long ld);

/// out[h·dim + c] = Σ_{j<count} p[h·ld + j] · values[j][h·dim + c], the rows read in order.
void cpu_kernels_attention_mix_rows(const float *p, const float *values, long stride, long heads, long dim,
                                    long count, long ld, float *out);

/// Names the calling thread (as `top -H`, perf and gdb show it); at most 15 bytes on Linux.
/// Here because Swift's Glibc module leaves out `pthread_setname_np`.
void cpu_kernels_name_thread(const char *name);

/// Asks Linux to back the 2 MB-aligned interior of a block of at least 4 MB with 2 MB pages (where
/// transparent huge pages are "madvise" or "always"); nothing elsewhere. Used for weights (TensorCore's
/// Storage) and for checkpoints read into memory (ModelIO): decoding streams every weight once per
/// token, and OPT-125m fp32 decoded at 54.5 / 57.2 tokens/s with them against 50.8 / 53.2 without
/// (Intel Xeon, alternating builds); filling a 100 MB array takes 50 page faults instead of 25,000.
void cpu_kernels_advise_huge_pages(void *base, size_t bytes);

/// `bytes` (a multiple of 2 MB) of fresh zeroed memory at a 2 MB-aligned address, advised as above
/// (TensorCore's WeightSlab); NULL when the system refuses. Give it back with `cpu_kernels_unmap`.
void *cpu_kernels_map_huge(size_t bytes);
/// The first `bytes` of file `fd` mapped read-only at a 2 MB-aligned address, advised as above, so
/// the page cache's 2 MB folios map whole (ModelIO's ByteStorage); NULL when the system refuses.
void *cpu_kernels_map_file_huge(int fd, size_t bytes);
void cpu_kernels_unmap(void *base, size_t bytes);

#endif
