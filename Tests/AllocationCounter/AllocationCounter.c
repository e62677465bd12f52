#include "AllocationCounter.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>   // first, so that glibc defines __GLIBC__ before the test below

#if defined(__linux__) && defined(__GLIBC__)
#include <execinfo.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

// glibc's allocator under its internal names; the definitions below interpose the public ones
// for the whole process (the executable's symbols come first in the dynamic linker's lookup).
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void *pointer);

static atomic_int enabled;
static atomic_long counted;
// Which threads count: the one that called `allocation_counter_start` and the kernels' pool
// workers (the pool names its threads "sentencevae-wkN"). Threads the runtime starts
// on its own (libdispatch's, XCTest's, a child-process monitor) come and go at random moments and
// are not part of the code under test. Each thread decides once per `start` (the epoch).
static pthread_t owner;
static atomic_long epoch;
static _Thread_local long seen_epoch;
static _Thread_local int tracked;
static const char worker_prefix[] = "sentencevae-wk";

static int thread_tracked(void) {
    long current = atomic_load_explicit(&epoch, memory_order_acquire);
    if (seen_epoch != current) {
        char name[16] = {0};
        prctl(PR_GET_NAME, name);   // a system call: allocates nothing
        tracked = pthread_equal(pthread_self(), owner) || strncmp(name, worker_prefix, sizeof worker_prefix - 1) == 0;
        seen_epoch = current;
    }
    return tracked;
}
// ALLOCATION_COUNTER_TRACE=N prints the stacks of the first N counted allocations to stderr
// (symbolize with `swift demangle`): how to find what a failing test counted.
static long trace_limit;
static _Thread_local int tracing;

static void trace(long index) {
    if (index >= trace_limit || tracing) return;
    tracing = 1;   // backtrace() may allocate on its first call
    void *frames[24];
    int n = backtrace(frames, 24);
    static const char line[] = "---- counted allocation\n";
    write(2, line, sizeof line - 1);
    backtrace_symbols_fd(frames, n, 2);
    tracing = 0;
}

static inline void count_one(void) {
    if (atomic_load_explicit(&enabled, memory_order_relaxed) && thread_tracked()) trace(atomic_fetch_add_explicit(&counted, 1, memory_order_relaxed));
}

void *malloc(size_t size) { count_one(); return __libc_malloc(size); }
void *calloc(size_t count, size_t size) { count_one(); return __libc_calloc(count, size); }
void *realloc(void *pointer, size_t size) { count_one(); return __libc_realloc(pointer, size); }
void free(void *pointer) { __libc_free(pointer); }
void *memalign(size_t alignment, size_t size) { count_one(); return __libc_memalign(alignment, size); }

void *aligned_alloc(size_t alignment, size_t size) {
    count_one();
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    count_one();
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL && size != 0) return ENOMEM;
    *out = pointer;
    return 0;
}

int allocation_counter_available(void) { return 1; }

void allocation_counter_start(void) {
    const char *limit = getenv("ALLOCATION_COUNTER_TRACE");
    trace_limit = limit ? atol(limit) : 0;
    atomic_store(&counted, 0);
    owner = pthread_self();
    atomic_fetch_add(&epoch, 1);
    atomic_store(&enabled, 1);
}

long allocation_counter_stop(void) {
    atomic_store(&enabled, 0);
    return atomic_load(&counted);
}

#else

int allocation_counter_available(void) { return 0; }
void allocation_counter_start(void) {}
long allocation_counter_stop(void) { return 0; }

#endif
