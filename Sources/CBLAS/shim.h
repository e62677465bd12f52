// OpenBLAS's CBLAS interface (cblas_sgemm, cblas_sgemv, openblas_set_num_threads).
#include <cblas.h>

// The kernel set OpenBLAS chose at load time ("Zen", "SkylakeX", "Prescott", …), or NULL when the
// BLAS is not OpenBLAS (its cblas.h then has no openblas_get_corename; openblas_config.h, which
// OpenBLAS's cblas.h includes, defines OPENBLAS_VERSION).
static inline const char *svae_blas_corename(void) {
#if defined(OPENBLAS_VERSION)
    return openblas_get_corename();
#else
    return 0;
#endif
}
