#include "GemvAVX512.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <string.h>

/// One-row products (fp32, bf16, q8) with 512-bit vectors, for CPUs that run them at full width
/// (Intel's AVX-512 cores, AMD from Zen 5): twice the FMAs and widening per instruction of the AVX2
/// kernels. Four rows at a time, sharing the loads of x, and asking for rows further on while
/// summing these: on Intel Xeon (Emerald Rapids, 2 cores), streaming 500 MB of fp32 rows 768 long,
/// one row of AVX2 read 22.8–23.0 GB/s, one row of AVX-512 25.2–25.3, four rows 27.3–29.7, with the
/// next four rows' line asked for 30.9–31.9 (OpenBLAS's SkylakeX sgemv 26.7–28.7). The server
/// cores keep more misses in flight with four streams; AMD Zen 4 is the opposite (CPUKernels.c),
/// which is one reason these run only where 512-bit operations are full width.

int cpu_kernels_avx512_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("f16c");
}

/// Lanes of x past `n` (a row's tail) masked off, so every row length is exact.
AVX512 static inline __mmask16 tail_mask(long remaining) {
    return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1);
}

/// The same 64 bytes of a group of four rows `ahead` elements on, asked for (`hint`) while this
/// group is summed.
#define prefetch_group(p0, p1, p2, p3, ahead, hint)                                         \
    do {                                                                                   \
        _mm_prefetch((const char *)((p0) + (ahead)), hint);                                \
        _mm_prefetch((const char *)((p1) + (ahead)), hint);                                \
        _mm_prefetch((const char *)((p2) + (ahead)), hint);                                \
        _mm_prefetch((const char *)((p3) + (ahead)), hint);                                \
    } while (0)

/// Rows ask for the group 48 KB on (at least four rows) into L2: more lines in flight than the
/// L1's fill buffers hold, and the rows between stay out of L1. Streaming OPT-shaped stacks of
/// fp32 on 2 threads (Intel Xeon, passes alternating, medians of 16–24): 125m shapes 1.11–1.12× the
/// next group into L1 (which had been level with none at rows of 768 floats and 0.85–0.95× past
/// 1,024, where it was dropped); 1.3b shapes 1.06× none. `bench opt` decode, alternating with the
/// build before: fp32 1.10× (125m) and 1.26× (1.3b). The compact formats' shorter rows go as four
/// streams instead (stream_ahead_rows).
static inline long l2_prefetch_distance(long row_bytes, long elements) {
    const long rows = row_bytes > 0 ? 49152 / row_bytes : 4;
    return (rows < 4 ? 4 : rows) * elements;
}

AVX512 void cpu_kernels_f32_gemv_rows_avx512(const float *w, long ld, long n, long start, long end, const float *x,
                                             float *y, long inc_y, int accumulate) {
    const long ahead = l2_prefetch_distance(4 * ld, ld);
    long r = start;
    for (; r + 4 <= end; r += 4) {
        const float *w0 = w + r * ld, *w1 = w0 + ld, *w2 = w1 + ld, *w3 = w2 + ld;
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        for (long c = 0; c < n; c += 16) {
            prefetch_group(w0 + c, w1 + c, w2 + c, w3 + c, ahead, _MM_HINT_T1);
            const __mmask16 m = tail_mask(n - c);
            const __m512 xv = _mm512_maskz_loadu_ps(m, x + c);
            a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w0 + c), xv, a0);
            a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w1 + c), xv, a1);
            a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w2 + c), xv, a2);
            a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w3 + c), xv, a3);
        }
        const float t[4] = {_mm512_reduce_add_ps(a0), _mm512_reduce_add_ps(a1), _mm512_reduce_add_ps(a2),
                            _mm512_reduce_add_ps(a3)};
        for (int i = 0; i < 4; i++) y[(r + i) * inc_y] = (accumulate ? y[(r + i) * inc_y] : 0) + t[i];
    }
    for (; r < end; r++) {
        const float *row = w + r * ld;
        __m512 a = _mm512_setzero_ps();
        for (long c = 0; c < n; c += 16) {
            const __mmask16 m = tail_mask(n - c);
            a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, row + c), _mm512_maskz_loadu_ps(m, x + c), a);
        }
        y[r * inc_y] = (accumulate ? y[r * inc_y] : 0) + _mm512_reduce_add_ps(a);
    }
}

/// The rows a kernel of compact weights sums together: four sequential streams, a quarter of the
/// range [start, end) apart (row j of each quarter), rather than four neighbouring rows. A compact
/// row is short (768 bytes of q8, 1,536 of bf16 at OPT-125m's width), so four neighbours are four
/// streams interleaved inside each 4 KB page, which the prefetchers follow badly. Each stream asks
/// for its next row into L1 and a row `ahead_bytes` on (at least the next) into L2.
static inline long stream_ahead_rows(long row_bytes, long ahead_bytes) {
    return row_bytes < ahead_bytes ? ahead_bytes / row_bytes : 1;
}

/// bf16 in the pair lane order (CPUKernels.h): one 64-byte load holds 32 columns; shifting each
/// 32-bit lane left by 16 gives the 16 even columns, masking the low half the 16 odd ones, which
/// meet xp[g…g+16) and xp[g+16…g+32). `whole` (a multiple of 32) columns here; the tail is the
/// caller's. Rows `row[0…3]` as four streams (stream_ahead_rows), 12 KB on into L2: streaming
/// OPT-shaped bf16 stacks on 2 threads (Intel Xeon, passes alternating, medians of 20–30), 1.15–1.19×
/// four neighbouring rows asking for the group 48 KB on at 125m shapes, level with fp32's bytes per
/// second (from 83–88 %), and 0.99–1.05× at 1.3b shapes (rows of 4 KB); 6 KB on: 1.11–1.19× and
/// 0.97×; four neighbouring rows also asking for the next group into L1: 1.11× and 1.01×.
AVX512 static inline void bf16_four_rows(const uint16_t *w, long n, const long row[4], long ahead, long whole,
                                         const float *xp, float t[4]) {
    const __m512i high = _mm512_set1_epi32((int)0xFFFF0000);
    const uint16_t *p[4];
    __m512 e[4], o[4];
    for (int i = 0; i < 4; i++) { p[i] = w + row[i] * n; e[i] = _mm512_setzero_ps(); o[i] = _mm512_setzero_ps(); }
    for (long g = 0; g < whole; g += 32) {
        prefetch_group(p[0] + g, p[1] + g, p[2] + g, p[3] + g, n, _MM_HINT_T0);
        prefetch_group(p[0] + g, p[1] + g, p[2] + g, p[3] + g, ahead, _MM_HINT_T1);
        const __m512 xe = _mm512_loadu_ps(xp + g), xo = _mm512_loadu_ps(xp + g + 16);
        for (int i = 0; i < 4; i++) {
            const __m512i v = _mm512_loadu_si512((const void *)(p[i] + g));
            e[i] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v, 16)), xe, e[i]);
            o[i] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v, high)), xo, o[i]);
        }
    }
    for (int i = 0; i < 4; i++) t[i] = _mm512_reduce_add_ps(_mm512_add_ps(e[i], o[i]));
}

AVX512 static inline float bf16_tail(const uint16_t *row, long whole, long n, const float *xp) {
    float total = 0;
    for (long c = whole; c < n; c++) {
        uint32_t bits = (uint32_t)row[c] << 16;
        float f;
        memcpy(&f, &bits, 4);
        total += f * xp[c];
    }
    return total;
}

/// bf16 one row at a time, 64 columns a step into four accumulators, for AMD Zen 4, where the AVX2
/// one-row kernel runs otherwise: Zen 4 splits each 512-bit operation in two but tracks it as one,
/// so a row's lines take half the out-of-order window's entries, and more of them are in flight
/// (OPT-125m bf16 decode 1.09×, median of 18 alternating pairs; in a C harness 1.17× while memory
/// was fast, 0.95× while slow; BENCHMARKS.md). The four-stream order above is slower there.
///
/// Each line is also asked for 6 KB ahead into L2 (`BF16_ONE_ROW_PREFETCH_L2`): memory and compute
/// barely overlap on Zen 4 VMs, and the L2 requests keep more lines coming. OPT-125m bf16 decode,
/// configurations alternating round by round: 6 KB 1.12× none (8 of 8 rounds above), then 1.32×;
/// 8, 9, 12 KB 1.08, 0.89, 0.99× of 6 KB's. (Into L1, 4 KB ahead, it had run 0.81×.)
enum { BF16_ONE_ROW_PREFETCH_L2 = 6144 };

AVX512 void cpu_kernels_bf16_gemv_one_row_avx512(const uint16_t *w, long n, long start, long end, const float *xp,
                                                 float *y, const float *bias) {
    const long whole = n / 32 * 32;
    const __m512i high = _mm512_set1_epi32((int)0xFFFF0000);
    for (long r = start; r < end; r++) {
        const uint16_t *row = w + r * n;
        __m512 e = _mm512_setzero_ps(), o = _mm512_setzero_ps(), e2 = e, o2 = e;
        long g = 0;
        for (; g + 64 <= whole; g += 64) {
            _mm_prefetch((const char *)(row + g) + BF16_ONE_ROW_PREFETCH_L2, _MM_HINT_T1);
            _mm_prefetch((const char *)(row + g) + BF16_ONE_ROW_PREFETCH_L2 + 64, _MM_HINT_T1);
            const __m512i v = _mm512_loadu_si512((const void *)(row + g)), v2 = _mm512_loadu_si512((const void *)(row + g + 32));
            e = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v, 16)), _mm512_loadu_ps(xp + g), e);
            o = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v, high)), _mm512_loadu_ps(xp + g + 16), o);
            e2 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v2, 16)), _mm512_loadu_ps(xp + g + 32), e2);
            o2 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v2, high)), _mm512_loadu_ps(xp + g + 48), o2);
        }
        for (; g < whole; g += 32) {
            const __m512i v = _mm512_loadu_si512((const void *)(row + g));
            e = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v, 16)), _mm512_loadu_ps(xp + g), e);
            o = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v, high)), _mm512_loadu_ps(xp + g + 16), o);
        }
        y[r] = (bias ? bias[r] : 0) + _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(e, o), _mm512_add_ps(e2, o2))) + bf16_tail(row, whole, n, xp);
    }
}

AVX512 void cpu_kernels_bf16_gemv_rows_avx512(const uint16_t *w, long n, long start, long end, const float *xp,
                                              float *y, const float *bias) {
    const long whole = n / 32 * 32, quarter = (end - start) / 4, ahead = stream_ahead_rows(2 * n, 12288) * n;
    float t[4];
    for (long j = 0; j < quarter; j++) {
        const long row[4] = {start + j, start + j + quarter, start + j + 2 * quarter, start + j + 3 * quarter};
        bf16_four_rows(w, n, row, ahead, whole, xp, t);
        for (int i = 0; i < 4; i++)
            y[row[i]] = (bias ? bias[row[i]] : 0) + t[i] + bf16_tail(w + row[i] * n, whole, n, xp);
    }
    // The rows past four whole quarters (at most three), one at a time.
    cpu_kernels_bf16_gemv_one_row_avx512(w, n, start + 4 * quarter, end, xp, y, bias);
}

/// q8 (CPUKernels.h): per block of 32 codes, Σ codes·x as a vector, then scaled into the row's
/// accumulator. Sixteen codes sign-extended and converted: one load-extend, one convert.
AVX512 static inline __m512 widen16(const int8_t *q) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)q)));
}

/// Σ codes·x over one block, unscaled: x0 and x1 are its 32 floats of x.
AVX512 static inline __m512 q8_block(const int8_t *q, __m512 x0, __m512 x1) {
    return _mm512_fmadd_ps(widen16(q + 16), x1, _mm512_mul_ps(widen16(q), x0));
}

/// Rows as four streams (stream_ahead_rows), each also asking for its scales 6 KB on: they are a
/// fifth stream beside the codes, which nothing asked for. Streaming OPT-shaped q8 stacks on 2
/// threads (Intel Xeon, passes alternating, medians of 16–24, four runs): 1.10–1.17× four
/// neighbouring rows with the next group into L1 and the group 48 KB on into L2 at 125m shapes
/// (q8 then reads at 85–89 % of fp32's bytes per second, from 76–80 %), 1.08–1.10× at 1.3b; the four
/// streams without the scales 1.09–1.14× and 1.05–1.07×; the scales alone 1.03× and 1.02×; 12 KB on
/// 1.10× and 1.06×.
AVX512 static inline __attribute__((always_inline)) void q8_rows(const int8_t *values, const void *scales, int half,
                                                                 long n, long start, long end, const float *x, float *y,
                                                                 const float *bias) {
    const long blocks = n / 32, quarter = (end - start) / 4, scale_bytes = half ? 2 : 4;
    const long ahead_rows = stream_ahead_rows(n, 6144), ahead = ahead_rows * n;
    for (long j = 0; j < quarter; j++) {
        const long row[4] = {start + j, start + j + quarter, start + j + 2 * quarter, start + j + 3 * quarter};
        const int8_t *q[4];
        __m512 acc[4];
        for (int i = 0; i < 4; i++) {
            q[i] = values + row[i] * n;
            acc[i] = _mm512_setzero_ps();
            const char *s = (const char *)scales + scale_bytes * (row[i] + ahead_rows) * blocks;
            for (long k = 0; k < scale_bytes * blocks; k += 64) _mm_prefetch(s + k, _MM_HINT_T1);
        }
        for (long b = 0; b < blocks; b++) {
            if (b % 2 == 0) {
                prefetch_group(q[0] + 32 * b, q[1] + 32 * b, q[2] + 32 * b, q[3] + 32 * b, n, _MM_HINT_T0);
                prefetch_group(q[0] + 32 * b, q[1] + 32 * b, q[2] + 32 * b, q[3] + 32 * b, ahead, _MM_HINT_T1);
            }
            const __m512 x0 = _mm512_loadu_ps(x + 32 * b), x1 = _mm512_loadu_ps(x + 32 * b + 16);
            for (int i = 0; i < 4; i++) {
                acc[i] = _mm512_fmadd_ps(q8_block(q[i] + 32 * b, x0, x1),
                                         _mm512_set1_ps(q8_scale_at(scales, row[i] * blocks + b, half)), acc[i]);
            }
        }
        for (int i = 0; i < 4; i++) y[row[i]] = (bias ? bias[row[i]] : 0) + _mm512_reduce_add_ps(acc[i]);
    }
    for (long r = start + 4 * quarter; r < end; r++) {
        const int8_t *row = values + r * n;
        __m512 acc = _mm512_setzero_ps();
        for (long b = 0; b < blocks; b++)
            acc = _mm512_fmadd_ps(q8_block(row + 32 * b, _mm512_loadu_ps(x + 32 * b), _mm512_loadu_ps(x + 32 * b + 16)),
                                  _mm512_set1_ps(q8_scale_at(scales, r * blocks + b, half)), acc);
        y[r] = (bias ? bias[r] : 0) + _mm512_reduce_add_ps(acc);
    }
}

AVX512 static void q8_rows_half(const int8_t *values, const void *scales, long n, long start, long end, const float *x,
                                float *y, const float *bias) {
    q8_rows(values, scales, 1, n, start, end, x, y, bias);
}

AVX512 static void q8_rows_single(const int8_t *values, const void *scales, long n, long start, long end,
                                  const float *x, float *y, const float *bias) {
    q8_rows(values, scales, 0, n, start, end, x, y, bias);
}

void cpu_kernels_q8_gemv_rows_avx512(const int8_t *values, const void *scales, int half_scales, long n, long start,
                                     long end, const float *x, float *y, const float *bias) {
    if (half_scales) q8_rows_half(values, scales, n, start, end, x, y, bias);
    else q8_rows_single(values, scales, n, start, end, x, y, bias);
}

#else

int cpu_kernels_avx512_available(void) { return 0; }

// Never called: cpu_kernels_avx512_available() is 0 off x86-64, and CPUKernels.c dispatches on it.
void cpu_kernels_f32_gemv_rows_avx512(const float *w, long ld, long n, long start, long end, const float *x,
                                      float *y, long inc_y, int accumulate) {
    (void)w; (void)ld; (void)n; (void)start; (void)end; (void)x; (void)y; (void)inc_y; (void)accumulate;
}
void cpu_kernels_bf16_gemv_rows_avx512(const uint16_t *w, long n, long start, long end, const float *xp,
                                       float *y, const float *bias) {
    (void)w; (void)n; (void)start; (void)end; (void)xp; (void)y; (void)bias;
}
void cpu_kernels_q8_gemv_rows_avx512(const int8_t *values, const void *scales, int half_scales, long n, long start,
                                     long end, const float *x, float *y, const float *bias) {
    (void)values; (void)scales; (void)half_scales; (void)n; (void)start; (void)end; (void)x; (void)y; (void)bias;
}
void cpu_kernels_bf16_gemv_one_row_avx512(const uint16_t *w, long n, long start, long end, const float *xp,
                                          float *y, const float *bias) {
    (void)w; (void)n; (void)start; (void)end; (void)xp; (void)y; (void)bias;
}
#endif
