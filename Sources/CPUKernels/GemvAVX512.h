#ifndef GEMV_AVX512_H
#define GEMV_AVX512_H

#include <stdint.h>
#include <string.h>

/// Private to CPUKernels: what its 512-bit kernels (GemvAVX512.c, SGEMM.c) and the q8 kernels share.
///
/// The AVX-512 subset every 512-bit kernel is compiled for, written once: the features that
/// `cpu_kernels_avx512_available` checks before any of them runs.
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

/// One q8 block's scale, possibly unaligned: fp16 (`half`: GGUF Q8_0's width, what conversions
/// write) or fp32 (files converted before fp16 scales). Callers pass `half` as a constant to an
/// always-inlined kernel body, so each width gets its own loop with no test inside.
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
__attribute__((target("f16c"))) static inline float q8_scale_at(const void *scales, long index, int half) {
    if (half) {
        uint16_t h;
        memcpy(&h, (const char *)scales + 2 * index, 2);
        return _cvtsh_ss(h);
    }
    float s;
    memcpy(&s, (const char *)scales + 4 * index, 4);
    return s;
}
#endif

/// The AVX-512 one-row products (GemvAVX512.c), with the contracts of their AVX2 namesakes in
/// CPUKernels.h; CPUKernels.c calls them when the caller asks for them (`wide`).
void cpu_kernels_f32_gemv_rows_avx512(const float *w, long ld, long n, long start, long end, const float *x,
                                      float *y, long inc_y, int accumulate);
void cpu_kernels_bf16_gemv_rows_avx512(const uint16_t *w, long n, long start, long end, const float *xp,
                                       float *y, const float *bias);
void cpu_kernels_q8_gemv_rows_avx512(const int8_t *values, const void *scales, int half_scales, long n, long start,
                                     long end, const float *x, float *y, const float *bias);
/// bf16 one row at a time in 512-bit vectors, for CPUs that split them in halves (AMD Zen 4).
void cpu_kernels_bf16_gemv_one_row_avx512(const uint16_t *w, long n, long start, long end, const float *xp,
                                          float *y, const float *bias);

#endif
