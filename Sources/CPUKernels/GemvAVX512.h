#ifndef GEMV_AVX512_H
#define GEMV_AVX512_H

#include <stdint.h>
#include <string.h>

/// Private to CPUKernels: what its 512-bit kernels (GemvAVX512.c, SGEMM.c) and the q8 kernels share.
///
/// The AVX-512 subset every 512-bit kernel is compiled for, written once: the features that
/// `cpu_kernels_avx512_available` checks before any of them runs.
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))

/// One q8 block's scale: fp32, possibly unaligned in the file's bytes (both q8 kernels read it).
static inline float q8_scale_at(const void *scales, long index) {
    float s;
    memcpy(&s, (const char *)scales + 4 * index, 4);
    return s;
}

/// The AVX-512 one-row products (GemvAVX512.c), with the contracts of their AVX2 namesakes in
/// CPUKernels.h; CPUKernels.c calls them when the caller asks for them (`wide`).
void cpu_kernels_f32_gemv_rows_avx512(const float *w, long ld, long n, long start, long end, const float *x,
                                      float *y, long inc_y, int accumulate);
void cpu_kernels_bf16_gemv_rows_avx512(const uint16_t *w, long n, long start, long end, const float *xp,
                                       float *y, const float *bias);
void cpu_kernels_q8_gemv_rows_avx512(const int8_t *values, const void *scales, long n, long start, long end,
                                     const float *x, float *y, const float *bias);

#endif
