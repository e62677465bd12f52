#ifndef GEMV_AVX512_H
#define GEMV_AVX512_H

#include <stdint.h>

/// The AVX-512 one-row products (GemvAVX512.c), with the contracts of their AVX2 namesakes in
/// CPUKernels.h; CPUKernels.c calls them once `cpu_kernels_use_avx512(1)` has chosen them.
void cpu_kernels_f32_gemv_rows_avx512(const float *w, long ld, long n, long start, long end, const float *x,
                                      float *y, long inc_y, int accumulate);
void cpu_kernels_bf16_gemv_rows_avx512(const uint16_t *w, long n, long start, long end, const float *xp,
                                       float *y, const float *bias);

void cpu_kernels_q8_gemv_rows_avx512(const int8_t *values, const void *scales, long n, long start, long end,
                                     const float *x, float *y, const float *bias);

#endif
