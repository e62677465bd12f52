#include "CPUKernels.h"

/// Blocks rounded up to a whole step of four (the kernel's), so steps past the last block read zeros.
static long padded_blocks(long columns) { return (columns / 32 + 3) / 4 * 4; }

long cpu_kernels_q8_prepared_bytes(long columns) { return padded_blocks(columns) * 104; }

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <string.h>

/// q8 one-row products as integer dot products (AVX-512 VNNI), for AMD Zen 4.
///
/// Widening codes to fp32 costs a sign-extend and a convert per 8 codes before their FMA; on Zen 4
/// the AVX2 kernel so spends ~15 vector operations on 32 codes and read rows in cache at 12–19 GB/s
/// per thread, too slow to keep up with memory. Here x is held as integers instead, once per
/// product: per block of 32 columns, X = round(x · L / max|x|) with L = 1,040,000 (21 bits of the
/// block's largest value), written as three signed base-128 digits X = d0·2^14 + d1·2^7 + d2, each
/// in [-64, 63]. Per 64 codes (two blocks) a row then takes one XOR (codes to unsigned, c + 128),
/// three `vpdpbusd` (four u8·s8 products summed into each 32-bit lane) with two shifts between
/// them, one convert and one FMA by the blocks' scales: in cache 24–30 GB/s per thread.
///
/// Exactness: the lane sums are exact integers (|Σ (c + 128)·X| ≤ 4 · 255 · 1,040,319 < 2^31). The
/// +128 offset is taken back once per row, as Σ_b scale_b · 128 · sx_b · ΣX_b (x's side, `k`). The
/// only rounding beyond fp32 arithmetic is x's, at most 2^-21 of its block's largest |x| — against
/// the 2^-8 of a block's largest |w| that the q8 codes hold. Products agree with fp32 on the
/// dequantised weights to 1e-5 of Σ|x·w| in the tests, x with 50× outliers included (measured:
/// 3.0e-6 at 32 columns, 1.0e-6 at 768, where every block's outlier column meets a zero weight;
/// 5e-8 on Gaussian x).
#define Q8VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

/// x's digits: |X| ≤ L keeps each base-128 digit in [-64, 63] (L ≤ 63·(2^14 + 2^7 + 1)).
static const float Q8_DIGIT_LIMIT = 1040000.0f;

int cpu_kernels_q8_vnni_available(void) {
    __builtin_cpu_init();
    return cpu_kernels_avx512_available() && __builtin_cpu_supports("avx512vnni");
}

/// Layout of a prepared x (`padded` blocks): the digits, per pair of blocks 192 bytes (d0 of both
/// blocks, 64 bytes, then d1, then d2; block 2p's 32 columns first); then `padded` floats sx (x ≈ X·sx);
/// then `padded` floats k = 128·sx·ΣX. Padding blocks are zero throughout.
Q8VNNI static inline void store_digits(__m512i X, int8_t *d) {
    const __m512i half = _mm512_set1_epi32(64), low = _mm512_set1_epi32(127);
    const __m512i d2 = _mm512_sub_epi32(_mm512_and_si512(_mm512_add_epi32(X, half), low), half);
    const __m512i t = _mm512_srai_epi32(_mm512_sub_epi32(X, d2), 7);
    const __m512i d1 = _mm512_sub_epi32(_mm512_and_si512(_mm512_add_epi32(t, half), low), half);
    const __m512i d0 = _mm512_srai_epi32(_mm512_sub_epi32(t, d1), 7);
    _mm_storeu_si128((__m128i *)d, _mm512_cvtepi32_epi8(d0));
    _mm_storeu_si128((__m128i *)(d + 64), _mm512_cvtepi32_epi8(d1));
    _mm_storeu_si128((__m128i *)(d + 128), _mm512_cvtepi32_epi8(d2));
}

Q8VNNI int cpu_kernels_q8_prepare_x(const float *x, long columns, void *prepared) {
    const long blocks = columns / 32, padded = padded_blocks(columns);
    int8_t *digits = prepared;
    float *sx = (float *)(digits + 96 * padded), *k = sx + padded;
    memset(prepared, 0, (size_t)cpu_kernels_q8_prepared_bytes(columns));
    const __m512i limit = _mm512_set1_epi32((int)Q8_DIGIT_LIMIT);
    for (long b = 0; b < blocks; b++) {
        const __m512 v0 = _mm512_loadu_ps(x + 32 * b), v1 = _mm512_loadu_ps(x + 32 * b + 16);
        // NaN or ±infinity (fpclass 0x99): the float kernels give them their IEEE meaning.
        if (_mm512_fpclass_ps_mask(v0, 0x99) | _mm512_fpclass_ps_mask(v1, 0x99)) return 0;
        const float m = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        if (m == 0) continue;
        if (m < 0x1p-96f) return 0;  // L / m would overflow
        const float inv = Q8_DIGIT_LIMIT / m;
        sx[b] = m / Q8_DIGIT_LIMIT;
        __m512i X0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, _mm512_set1_ps(inv)));
        __m512i X1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, _mm512_set1_ps(inv)));
        X0 = _mm512_max_epi32(_mm512_min_epi32(X0, limit), _mm512_sub_epi32(_mm512_setzero_si512(), limit));
        X1 = _mm512_max_epi32(_mm512_min_epi32(X1, limit), _mm512_sub_epi32(_mm512_setzero_si512(), limit));
        int8_t *d = digits + 192 * (b / 2) + 32 * (b % 2);
        store_digits(X0, d);
        store_digits(X1, d + 16);
        k[b] = (float)(128.0 * (double)sx[b] * (double)_mm512_reduce_add_epi32(_mm512_add_epi32(X0, X1)));
    }
    return 1;
}

/// Σ (c + 128)·X over two blocks (64 codes, flipped to unsigned), per 32-bit lane: lanes 0–7 the
/// first block's, 8–15 the second's. `d0`, `d1`, `d2` are the pair's three digits (192 bytes).
Q8VNNI static inline __m512i pair_dot_digits(__m512i u, __m512i d0, __m512i d1, __m512i d2) {
    __m512i a = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, d0);
    a = _mm512_dpbusd_epi32(_mm512_slli_epi32(a, 7), u, d1);
    return _mm512_dpbusd_epi32(_mm512_slli_epi32(a, 7), u, d2);
}

/// Four blocks' scales as floats; lanes past `mask` zero.
Q8VNNI static inline __attribute__((always_inline)) __m128 scales4(const void *scales, long index, int half, __mmask8 mask) {
    if (half) return _mm_cvtph_ps(_mm_maskz_loadu_epi16(mask, (const uint16_t *)scales + index));
    return _mm_maskz_loadu_ps(mask, (const float *)scales + index);
}

/// Rows `row[0…3]` of a product: four streams, the digits of x loaded once per step of four blocks
/// for all four rows. Each stream asks for its next row's lines into L1 and the lines `ahead` bytes
/// on into L2, and for the scales of the row `ahead_rows` on (a fifth stream, which nothing else
/// asks for). Repeated rows are summed again and written alike.
Q8VNNI static inline __attribute__((always_inline)) void four_rows(const int8_t *values, const void *scales, int half, long n,
                                                                    const long row[4], long ahead_rows, const void *prepared,
                                                                    float *y, const float *bias) {
    const long blocks = n / 32, padded = padded_blocks(n), steps = blocks / 4, rest = blocks % 4;
    const long ahead = ahead_rows * n, scale_bytes = half ? 2 : 4;
    const int8_t *digits = prepared;
    const float *sx = (const float *)(digits + 96 * padded), *k = sx + padded;
    // Scales of blocks (b, b+1) spread over lanes 0–7 and 8–15; (b+2, b+3) likewise.
    const __m512i first = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i second = _mm512_add_epi32(first, _mm512_set1_epi32(2));
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    // The last step's codes: `rest` blocks of 32 bytes, the rest masked off (their digits are zero).
    const __mmask64 tail0 = rest >= 2 ? ~(__mmask64)0 : rest == 1 ? 0xFFFFFFFFull : 0;
    const __mmask64 tail1 = rest == 3 ? 0xFFFFFFFFull : 0;
    const int8_t *q[4];
    __m512 a0[4], a1[4];
    __m128 c[4];
    for (int i = 0; i < 4; i++) {
        q[i] = values + row[i] * n;
        a0[i] = _mm512_setzero_ps();
        a1[i] = _mm512_setzero_ps();
        c[i] = _mm_setzero_ps();
        const char *ahead_scales = (const char *)scales + scale_bytes * (row[i] + ahead_rows) * blocks;
        for (long b = 0; b < scale_bytes * blocks; b += 64) _mm_prefetch(ahead_scales + b, _MM_HINT_T1);
    }
    for (long step = 0, b = 0; step < steps + (rest != 0); step++, b += 4) {
        const int8_t *d = digits + 96 * b;
        const __m512i d0 = _mm512_loadu_si512(d), d1 = _mm512_loadu_si512(d + 64), d2 = _mm512_loadu_si512(d + 128);
        const __m512i e0 = _mm512_loadu_si512(d + 192), e1 = _mm512_loadu_si512(d + 256), e2 = _mm512_loadu_si512(d + 320);
        const __m128 kb = _mm_loadu_ps(k + b), xb = _mm_loadu_ps(sx + b);
        for (int i = 0; i < 4; i++) {
            const long base = row[i] * blocks;
            __m512i u0, u1;
            __m128 s;
            if (step < steps) {
                _mm_prefetch((const char *)(q[i] + 32 * b + n), _MM_HINT_T0);
                _mm_prefetch((const char *)(q[i] + 32 * b + 64 + n), _MM_HINT_T0);
                _mm_prefetch((const char *)(q[i] + 32 * b + ahead), _MM_HINT_T1);
                _mm_prefetch((const char *)(q[i] + 32 * b + 64 + ahead), _MM_HINT_T1);
                u0 = _mm512_xor_si512(_mm512_loadu_si512(q[i] + 32 * b), flip);
                u1 = _mm512_xor_si512(_mm512_loadu_si512(q[i] + 32 * b + 64), flip);
                s = half ? _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)((const uint16_t *)scales + base + b)))
                         : _mm_loadu_ps((const float *)scales + base + b);
            } else {
                u0 = _mm512_xor_si512(_mm512_maskz_loadu_epi8(tail0, q[i] + 32 * b), flip);
                u1 = _mm512_xor_si512(_mm512_maskz_loadu_epi8(tail1, q[i] + 32 * b + 64), flip);
                s = scales4(scales, base + b, half, (__mmask8)((1u << rest) - 1));
            }
            // The +128 offset's share (x's side, k) and the blocks' scales times x's (sx).
            c[i] = _mm_fmadd_ps(s, kb, c[i]);
            const __m512 sw = _mm512_castps128_ps512(_mm_mul_ps(s, xb));
            a0[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(pair_dot_digits(u0, d0, d1, d2)), _mm512_permutexvar_ps(first, sw), a0[i]);
            a1[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(pair_dot_digits(u1, e0, e1, e2)), _mm512_permutexvar_ps(second, sw), a1[i]);
        }
    }
    for (int i = 0; i < 4; i++) {
        __m128 cs = _mm_add_ps(c[i], _mm_movehl_ps(c[i], c[i]));
        cs = _mm_add_ss(cs, _mm_movehdup_ps(cs));
        y[row[i]] = (bias ? bias[row[i]] : 0) + (_mm512_reduce_add_ps(_mm512_add_ps(a0[i], a1[i])) - _mm_cvtss_f32(cs));
    }
}

/// Rows [start, end) as four streams a quarter of the range apart (row j of each quarter), as the
/// AVX-512 compact kernels read them (GemvAVX512.c), each asking 6 KB on into L2; the rows past four
/// whole quarters (at most three) as one more group, its last row repeated. The threads take whole
/// parts (`RowParts`). On AMD Zen 4 (OPT-125m q8 decode over fp32, inside each round of one run):
/// while memory is contended (fp32 at ~33 GB/s), 3.3–3.6× against 3.0–3.15 one row at a time (asking
/// 4 KB on into L1 and 12 KB into L2, which had made it 1.27× the AVX2 kernel) — the AVX-512 float
/// kernel's four streams had reached the same, the one row's requests too few for the longer
/// latency; while fast (~50 GB/s), 2.6–2.9 against 2.6–2.8, where the float kernel's arithmetic holds
/// it to 2.3 (BENCHMARKS.md).
Q8VNNI static inline __attribute__((always_inline)) void q8_vnni_rows(const int8_t *values, const void *scales, int half,
                                                                       long n, long start, long end,
                                                                       const void *prepared, float *y, const float *bias) {
    const long quarter = (end - start) / 4, ahead_rows = n < 6144 ? 6144 / n : 1;
    for (long j = 0; j < quarter; j++) {
        const long row[4] = {start + j, start + j + quarter, start + j + 2 * quarter, start + j + 3 * quarter};
        four_rows(values, scales, half, n, row, ahead_rows, prepared, y, bias);
    }
    const long left = start + 4 * quarter;
    if (left < end) {
        const long row[4] = {left, left + 1 < end ? left + 1 : end - 1, left + 2 < end ? left + 2 : end - 1, end - 1};
        four_rows(values, scales, half, n, row, ahead_rows, prepared, y, bias);
    }
}

Q8VNNI static void q8_vnni_rows_half(const int8_t *values, const void *scales, long n, long start, long end,
                                     const void *prepared, float *y, const float *bias) {
    q8_vnni_rows(values, scales, 1, n, start, end, prepared, y, bias);
}

Q8VNNI static void q8_vnni_rows_single(const int8_t *values, const void *scales, long n, long start, long end,
                                       const void *prepared, float *y, const float *bias) {
    q8_vnni_rows(values, scales, 0, n, start, end, prepared, y, bias);
}

void cpu_kernels_q8_gemv_rows_vnni(const int8_t *values, const void *scales, int half_scales, long columns, long start,
                                   long end, const void *prepared, float *y, const float *bias) {
    if (half_scales) q8_vnni_rows_half(values, scales, columns, start, end, prepared, y, bias);
    else q8_vnni_rows_single(values, scales, columns, start, end, prepared, y, bias);
}

#else

int cpu_kernels_q8_vnni_available(void) { return 0; }
// Never called off x86-64: cpu_kernels_q8_vnni_available() is 0 there.
int cpu_kernels_q8_prepare_x(const float *x, long columns, void *prepared) {
    (void)x; (void)columns; (void)prepared;
    return 0;
}
void cpu_kernels_q8_gemv_rows_vnni(const int8_t *values, const void *scales, int half_scales, long columns, long start,
                                   long end, const void *prepared, float *y, const float *bias) {
    (void)values; (void)scales; (void)half_scales; (void)columns; (void)start; (void)end; (void)prepared; (void)y; (void)bias;
}

#endif
