#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H

/// Heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) made between
/// `allocation_counter_start` and `allocation_counter_stop` by the thread that started counting and
/// by the kernels' pool workers (threads named "sentencevae-wkN"). Threads the runtime starts on its own
/// (libdispatch, XCTest) are left out: they wake at random and made the count flaky.
///
/// Linked into the test executable only: it defines the allocator's entry points and forwards them
/// to glibc's own (`__libc_malloc` …), counting while enabled. Elsewhere (macOS, musl) it counts
/// nothing and `allocation_counter_available` returns 0, so tests skip.

/// 1 when allocations are counted on this platform.
int allocation_counter_available(void);

/// Resets the count and starts counting.
void allocation_counter_start(void);

/// Stops counting and returns the allocations made since `allocation_counter_start`.
long allocation_counter_stop(void);

#endif
