#include "CPUKernels.h"

/// The two products of one attention head for one query over a cache whose rows (one per
/// position) are `stride` floats apart: scores q·k_j, and the probability-weighted sum of the v_j.
/// `dim` (the head width) is read eight floats at a time, with a scalar tail.

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline float dot_tail(const float *a, const float *b, long from, long dim) {
    float s = 0;
    for (long d = from; d < dim; d++) s += a[d] * b[d];
    return s;
}

/// Four keys per step, one accumulator each; the four sums are reduced together by two rounds of
/// horizontal adds instead of four separate reductions.
AVX2 void cpu_kernels_attention_scores(const float *q, const float *keys, long stride, long count, long dim,
                                       float scale, float *scores) {
    const long whole = dim / 8 * 8;
    long j = 0;
    for (; j + 4 <= count; j += 4) {
        const float *k0 = keys + j * stride, *k1 = k0 + stride, *k2 = k1 + stride, *k3 = k2 + stride;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (long d = 0; d < whole; d += 8) {
            const __m256 qv = _mm256_loadu_ps(q + d);
            a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k0 + d), a0);
            a1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k1 + d), a1);
            a2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k2 + d), a2);
            a3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k3 + d), a3);
        }
        const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        float out[4];
        _mm_storeu_ps(out, s);
        scores[j] = (out[0] + dot_tail(q, k0, whole, dim)) * scale;
        scores[j + 1] = (out[1] + dot_tail(q, k1, whole, dim)) * scale;
        scores[j + 2] = (out[2] + dot_tail(q, k2, whole, dim)) * scale;
        scores[j + 3] = (out[3] + dot_tail(q, k3, whole, dim)) * scale;
    }
    for (; j < count; j++) {
        const float *k = keys + j * stride;
        __m256 a = _mm256_setzero_ps();
        for (long d = 0; d < whole; d += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(k + d), a);
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        scores[j] = (_mm_cvtss_f32(s) + dot_tail(q, k, whole, dim)) * scale;
    }
}

/// out = Σ_j p[j]·v_j, 32 columns at a time in four accumulators (four FMA chains per key).
AVX2 void cpu_kernels_attention_mix(const float *p, const float *values, long stride, long count, long dim, float *out) {
    long c = 0;
    for (; c + 32 <= dim; c += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (long j = 0; j < count; j++) {
            const float *v = values + j * stride + c;
            const __m256 w = _mm256_broadcast_ss(p + j);
            a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v), a0);
            a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v + 8), a1);
            a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v + 16), a2);
            a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v + 24), a3);
        }
        _mm256_storeu_ps(out + c, a0);
        _mm256_storeu_ps(out + c + 8, a1);
        _mm256_storeu_ps(out + c + 16, a2);
        _mm256_storeu_ps(out + c + 24, a3);
    }
    for (; c + 8 <= dim; c += 8) {
        __m256 a = _mm256_setzero_ps();
        for (long j = 0; j < count; j++) a = _mm256_fmadd_ps(_mm256_broadcast_ss(p + j), _mm256_loadu_ps(values + j * stride + c), a);
        _mm256_storeu_ps(out + c, a);
    }
    for (; c < dim; c++) {
        float s = 0;
        for (long j = 0; j < count; j++) s += p[j] * values[j * stride + c];
        out[c] = s;
    }
}

/// One query against positions of a cache, every head at once (`heads` × `dim` = a cache row):
/// positions outer, so the rows are read in order, each once, as one stream. The cache of a
/// decoding step is cold (the weights streamed since evicted it); head by head, each head's keys
/// lay a row apart and the values were read in two passes. Cold, OPT-125m's 12 layers at 80 and
/// 200 cached positions (AMD Zen 4, one thread) took 0.56–0.74 of the per-head kernels' time this
/// way.
/// scores[h·ld + j] = scale · (q_h · keys[j]_h) for j < count.
AVX2 void cpu_kernels_attention_scores_rows(const float *q, const float *keys, long stride, long heads, long dim,
                                            long count, float scale, float *scores, long ld) {
    const long whole = dim / 8 * 8;
    for (long j = 0; j < count; j++) {
        const float *k = keys + j * stride;
        for (long h = 0; h < heads; h++) {
            const float *qh = q + h * dim, *kh = k + h * dim;
            __m256 a = _mm256_setzero_ps(), b = a;
            long d = 0;
            for (; d + 16 <= whole; d += 16) {
                a = _mm256_fmadd_ps(_mm256_loadu_ps(qh + d), _mm256_loadu_ps(kh + d), a);
                b = _mm256_fmadd_ps(_mm256_loadu_ps(qh + d + 8), _mm256_loadu_ps(kh + d + 8), b);
            }
            if (d < whole) a = _mm256_fmadd_ps(_mm256_loadu_ps(qh + d), _mm256_loadu_ps(kh + d), a);
            a = _mm256_add_ps(a, b);
            __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
            s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            s = _mm_add_ss(s, _mm_movehdup_ps(s));
            scores[h * ld + j] = (_mm_cvtss_f32(s) + dot_tail(qh, kh, whole, dim)) * scale;
        }
    }
}

/// out[h·dim + c] = Σ_{j<count} p[h·ld + j] · values[j][h·dim + c]: the same order, the sums kept in
/// `out` (a cache row of floats, in L1).
AVX2 void cpu_kernels_attention_mix_rows(const float *p, const float *values, long stride, long heads, long dim,
                                         long count, long ld, float *out) {
    const long width = heads * dim, whole = dim / 8 * 8;
    for (long c = 0; c < width; c++) out[c] = 0;
    for (long j = 0; j < count; j++) {
        const float *v = values + j * stride;
        for (long h = 0; h < heads; h++) {
            const float w = p[h * ld + j];
            const __m256 wv = _mm256_set1_ps(w);
            float *o = out + h * dim;
            const float *vh = v + h * dim;
            for (long c = 0; c < whole; c += 8)
                _mm256_storeu_ps(o + c, _mm256_fmadd_ps(wv, _mm256_loadu_ps(vh + c), _mm256_loadu_ps(o + c)));
            for (long c = whole; c < dim; c++) o[c] += w * vh[c];
        }
    }
}

#else

#include <stdio.h>
#include <stdlib.h>

// Never called where unavailable (the Swift loops run instead); defined so every platform links.
void cpu_kernels_attention_scores(const float *q, const float *keys, long stride, long count, long dim,
                                  float scale, float *scores) {
    (void)q; (void)keys; (void)stride; (void)count; (void)dim; (void)scale; (void)scores;
    fputs("CPUKernels: AVX2 kernel called on a CPU without it\n", stderr);
    abort();
}

void cpu_kernels_attention_mix(const float *p, const float *values, long stride, long count, long dim, float *out) {
    (void)p; (void)values; (void)stride; (void)count; (void)dim; (void)out;
    fputs("CPUKernels: AVX2 kernel called on a CPU without it\n", stderr);
    abort();
}

void cpu_kernels_attention_scores_rows(const float *q, const float *keys, long stride, long heads, long dim,
                                       long count, float scale, float *scores, long ld) {
    (void)q; (void)keys; (void)stride; (void)heads; (void)dim; (void)count; (void)scale; (void)scores; (void)ld;
    fputs("CPUKernels: AVX2 kernel called on a CPU without it\n", stderr);
    abort();
}

void cpu_kernels_attention_mix_rows(const float *p, const float *values, long stride, long heads, long dim,
                                    long count, long ld, float *out) {
    (void)p; (void)values; (void)stride; (void)heads; (void)dim; (void)count; (void)ld; (void)out;
    fputs("CPUKernels: AVX2 kernel called on a CPU without it\n", stderr);
    abort();
}

#endif
