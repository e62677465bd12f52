#include "CPUKernels.h"

#include <stdint.h>
#if defined(__linux__)
#include <sys/mman.h>
#ifndef MADV_HUGEPAGE
#define MADV_HUGEPAGE 14   // Linux's value; glibc hides the name in strict ISO C modes
#endif
#endif

/// Only the 2 MB-aligned interior can take 2 MB pages, and blocks under 4 MB have too little of it
/// to be worth a system call.
void cpu_kernels_advise_huge_pages(void *base, size_t bytes) {
#if defined(__linux__)
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (base == NULL || bytes < 2 * huge) return;
    const uintptr_t start = ((uintptr_t)base + huge - 1) & ~(huge - 1);
    const uintptr_t end = ((uintptr_t)base + bytes) & ~(huge - 1);
    if (end > start) (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)base;
    (void)bytes;
#endif
}
