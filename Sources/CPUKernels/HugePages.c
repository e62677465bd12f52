#include "CPUKernels.h"

#include <stdint.h>
#if defined(__linux__) || defined(__APPLE__)
#include <sys/mman.h>
#endif
#if defined(__linux__)
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

#if defined(__linux__) || defined(__APPLE__)
/// `bytes` mapped at a 2 MB-aligned address (`flags`, `fd` as mmap's), advised as above: 2 MB more
/// than asked is reserved, the mapping put over its aligned stretch, and the slack either side
/// given back. NULL, with nothing left mapped, when the system refuses.
static void *map_aligned(size_t bytes, int prot, int flags, int fd) {
    const uintptr_t huge = (uintptr_t)2 << 20;
    char *reserved = mmap(NULL, bytes + huge, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (reserved == MAP_FAILED) return NULL;
    char *start = (char *)(((uintptr_t)reserved + huge - 1) & ~(huge - 1));
    if (mmap(start, bytes, prot, flags | MAP_FIXED, fd, 0) == MAP_FAILED) {
        munmap(reserved, bytes + huge);
        return NULL;
    }
    if (start > reserved) munmap(reserved, (size_t)(start - reserved));
    const size_t tail = (size_t)(reserved + bytes + huge - (start + bytes));
    if (tail > 0) munmap(start + bytes, tail);
    cpu_kernels_advise_huge_pages(start, bytes);
    return start;
}
#endif

void *cpu_kernels_map_huge(size_t bytes) {
#if defined(__linux__) || defined(__APPLE__)
    return map_aligned(bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
#else
    (void)bytes;
    return NULL;
#endif
}

void *cpu_kernels_map_file_huge(int fd, size_t bytes) {
#if defined(__linux__) || defined(__APPLE__)
    return map_aligned(bytes, PROT_READ, MAP_PRIVATE, fd);
#else
    (void)fd;
    (void)bytes;
    return NULL;
#endif
}

void cpu_kernels_unmap(void *base, size_t bytes) {
#if defined(__linux__) || defined(__APPLE__)
    if (base != NULL) munmap(base, bytes);
#else
    (void)base;
    (void)bytes;
#endif
}
