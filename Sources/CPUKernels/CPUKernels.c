#include "CPUKernels.h"
#include "GemvAVX512.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

/// F16C for the q8 kernels' fp16 scales: every x86 CPU with AVX2 has it.
#define AVX2 __attribute__((target("avx2,fma,f16c")))

int cpu_kernels_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

/// Eight codes sign-extended and converted: one load-extend and one convert.
AVX2 static inline __m256 widen8(const int8_t *q) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)q)));
}

AVX2 static inline float sum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Σ codes·x over the 32 columns of one block, as a vector still to be scaled: two independent
/// chains (products of columns 0–15 and 16–31) joined at the end.
AVX2 static inline __m256 block_dot(const int8_t *q, const float *x) {
    __m256 a = _mm256_mul_ps(widen8(q), _mm256_loadu_ps(x));
    __m256 b = _mm256_mul_ps(widen8(q + 16), _mm256_loadu_ps(x + 16));
    a = _mm256_fmadd_ps(widen8(q + 8), _mm256_loadu_ps(x + 8), a);
    b = _mm256_fmadd_ps(widen8(q + 24), _mm256_loadu_ps(x + 24), b);
    return _mm256_add_ps(a, b);
}

/// One row at a time, two blocks per step into two accumulators. Rows are read strictly in
/// order: interleaving 2 or 4 rows (to share the loads of x) halved the speed on matrices
/// streamed from memory (50272×768: 7.5 against 14.9 GB/s on 2 threads, AMD EPYC), whose
/// prefetchers follow one sequential stream per thread best.
///
/// Each step (one 64-byte line of codes) also asks for the line `Q8_PREFETCH` bytes ahead: widening
/// makes this kernel consume bytes slower than a plain read, and the hardware prefetcher alone then
/// ran too few lines ahead. On AMD Zen 4, streaming 146 MB: 21.7 against 15.8 GB/s on one thread
/// (22 is its rate on rows in L2) and 32–36 against 29.7 on two.
enum { Q8_PREFETCH = 4096 };

AVX2 static inline __attribute__((always_inline)) void gemv_rows_avx2(const int8_t *values, const void *scales, int half,
                                                                       long n, long start, long end, const float *x,
                                                                       float *y, const float *bias) {
    const long blocks = n / 32;
    for (long r = start; r < end; r++) {
        const int8_t *q = values + r * n;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        long b = 0;
        for (; b + 2 <= blocks; b += 2) {
            _mm_prefetch((const char *)(q + 32 * b + Q8_PREFETCH), _MM_HINT_T0);
            acc0 = _mm256_fmadd_ps(block_dot(q + 32 * b, x + 32 * b), _mm256_set1_ps(q8_scale_at(scales, r * blocks + b, half)), acc0);
            acc1 = _mm256_fmadd_ps(block_dot(q + 32 * b + 32, x + 32 * b + 32), _mm256_set1_ps(q8_scale_at(scales, r * blocks + b + 1, half)), acc1);
        }
        if (b < blocks) acc0 = _mm256_fmadd_ps(block_dot(q + 32 * b, x + 32 * b), _mm256_set1_ps(q8_scale_at(scales, r * blocks + b, half)), acc0);
        y[r] = (bias ? bias[r] : 0) + sum8(_mm256_add_ps(acc0, acc1));
    }
}

AVX2 static inline __attribute__((always_inline)) void widen_rows_avx2(const int8_t *values, const void *scales, int half,
                                                                        long n, long start, long end, float *out) {
    // Rows are whole blocks, so rows [start, end) are one run of blocks.
    const long first = start * n / 32, count = (end - start) * n / 32;
    for (long b = 0; b < count; b++) {
        const int8_t *q = values + 32 * (first + b);
        const __m256 s = _mm256_set1_ps(q8_scale_at(scales, first + b, half));
        float *o = out + 32 * b;
        _mm256_storeu_ps(o, _mm256_mul_ps(widen8(q), s));
        _mm256_storeu_ps(o + 8, _mm256_mul_ps(widen8(q + 8), s));
        _mm256_storeu_ps(o + 16, _mm256_mul_ps(widen8(q + 16), s));
        _mm256_storeu_ps(o + 24, _mm256_mul_ps(widen8(q + 24), s));
    }
}

AVX2 static void gemv_rows_half(const int8_t *values, const void *scales, long n, long start, long end,
                                const float *x, float *y, const float *bias) {
    gemv_rows_avx2(values, scales, 1, n, start, end, x, y, bias);
}

AVX2 static void gemv_rows_single(const int8_t *values, const void *scales, long n, long start, long end,
                                  const float *x, float *y, const float *bias) {
    gemv_rows_avx2(values, scales, 0, n, start, end, x, y, bias);
}

void cpu_kernels_q8_gemv_rows(const int8_t *values, const void *scales, int half_scales, long columns, long start,
                              long end, const float *x, float *y, const float *bias, int wide) {
    if (wide) {
        cpu_kernels_q8_gemv_rows_avx512(values, scales, half_scales, columns, start, end, x, y, bias);
    } else if (half_scales) {
        gemv_rows_half(values, scales, columns, start, end, x, y, bias);
    } else {
        gemv_rows_single(values, scales, columns, start, end, x, y, bias);
    }
}

/// bf16 rows in the pair lane order: 64 bytes hold columns (2j, 2j+1) for j < 16; shifting each
/// 32-bit lane left by 16 gives the even columns as fp32, masking the low half gives the odd ones.
/// Four accumulators, so four FMA chains are in flight per row.
AVX2 static void bf16_gemv_rows_avx2(const uint16_t *w, long n, long start, long end, const float *xp, float *y, const float *bias) {
    const long whole = n / 32 * 32;
    const __m256i high = _mm256_set1_epi32((int)0xFFFF0000);
    for (long r = start; r < end; r++) {
        const uint16_t *row = w + r * n;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        for (long g = 0; g < whole; g += 32) {
            __m256i v0 = _mm256_loadu_si256((const __m256i *)(row + g));
            __m256i v1 = _mm256_loadu_si256((const __m256i *)(row + g + 16));
            a0 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(v0, 16)), _mm256_loadu_ps(xp + g), a0);
            a1 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(v1, 16)), _mm256_loadu_ps(xp + g + 8), a1);
            a2 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(v0, high)), _mm256_loadu_ps(xp + g + 16), a2);
            a3 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(v1, high)), _mm256_loadu_ps(xp + g + 24), a3);
        }
        float total = sum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
        for (long c = whole; c < n; c++) {
            uint32_t bits = (uint32_t)row[c] << 16;
            float f;
            memcpy(&f, &bits, 4);
            total += f * xp[c];
        }
        y[r] = (bias ? bias[r] : 0) + total;
    }
}

void cpu_kernels_bf16_gemv_rows(const uint16_t *weights, long columns, long start, long end,
                                const float *x, float *y, const float *bias, int wide) {
    if (wide == 1) { cpu_kernels_bf16_gemv_rows_avx512(weights, columns, start, end, x, y, bias); return; }
    if (wide == 2) { cpu_kernels_bf16_gemv_one_row_avx512(weights, columns, start, end, x, y, bias); return; }
    bf16_gemv_rows_avx2(weights, columns, start, end, x, y, bias);
}

/// fp32 rows in the same order as the q8 and bf16 kernels, one row at a time with four FMA chains.
/// OpenBLAS's sgemv interleaves rows, and streamed a 50272×768 matrix from memory at 15.4 GB/s on
/// one thread of AMD Zen 4 where this reads 27.5–28.2 (the thread's plain read rate).
AVX2 static void f32_gemv_rows_avx2(const float *w, long ld, long n, long start, long end, const float *x, float *y,
                                    long inc_y, int accumulate) {
    for (long r = start; r < end; r++) {
        const float *row = w + r * ld;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        long c = 0;
        for (; c + 32 <= n; c += 32) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(row + c), _mm256_loadu_ps(x + c), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(row + c + 8), _mm256_loadu_ps(x + c + 8), a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(row + c + 16), _mm256_loadu_ps(x + c + 16), a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(row + c + 24), _mm256_loadu_ps(x + c + 24), a3);
        }
        for (; c + 8 <= n; c += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(row + c), _mm256_loadu_ps(x + c), a0);
        float total = sum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
        for (; c < n; c++) total += row[c] * x[c];
        y[r * inc_y] = (accumulate ? y[r * inc_y] : 0) + total;
    }
}

void cpu_kernels_f32_gemv_rows(const float *weights, long ld, long columns, long start, long end, const float *x,
                               float *y, long inc_y, int accumulate, int wide) {
    if (wide) { cpu_kernels_f32_gemv_rows_avx512(weights, ld, columns, start, end, x, y, inc_y, accumulate); return; }
    f32_gemv_rows_avx2(weights, ld, columns, start, end, x, y, inc_y, accumulate);
}

AVX2 static void widen_rows_half(const int8_t *values, const void *scales, long n, long start, long end, float *out) {
    widen_rows_avx2(values, scales, 1, n, start, end, out);
}

AVX2 static void widen_rows_single(const int8_t *values, const void *scales, long n, long start, long end, float *out) {
    widen_rows_avx2(values, scales, 0, n, start, end, out);
}

void cpu_kernels_q8_widen_rows(const int8_t *values, const void *scales, int half_scales, long columns, long start,
                               long end, float *out) {
    if (half_scales) widen_rows_half(values, scales, columns, start, end, out);
    else widen_rows_single(values, scales, columns, start, end, out);
}

#else

int cpu_kernels_available(void) { return 0; }

#include <stdio.h>
#include <stdlib.h>

// Never called where unavailable (the Swift kernels run instead); defined so every platform links.
static void unavailable(void) {
    fputs("CPUKernels: AVX2 kernel called on a CPU without it\n", stderr);
    abort();
}

void cpu_kernels_q8_gemv_rows(const int8_t *values, const void *scales, int half_scales, long columns, long start,
                              long end, const float *x, float *y, const float *bias, int wide) {
    (void)values; (void)scales; (void)half_scales; (void)columns; (void)start; (void)end; (void)x; (void)y; (void)bias; (void)wide;
    unavailable();
}

void cpu_kernels_q8_widen_rows(const int8_t *values, const void *scales, int half_scales, long columns, long start,
                               long end, float *out) {
    (void)values; (void)scales; (void)half_scales; (void)columns; (void)start; (void)end; (void)out;
    unavailable();
}

void cpu_kernels_bf16_gemv_rows(const uint16_t *weights, long columns, long start, long end,
                                const float *x, float *y, const float *bias, int wide) {
    (void)weights; (void)columns; (void)start; (void)end; (void)x; (void)y; (void)bias; (void)wide;
    unavailable();
}

void cpu_kernels_f32_gemv_rows(const float *weights, long ld, long columns, long start, long end, const float *x,
                               float *y, long inc_y, int accumulate, int wide) {
    (void)weights; (void)ld; (void)columns; (void)start; (void)end; (void)x; (void)y; (void)inc_y; (void)accumulate; (void)wide;
    unavailable();
}

#endif
