// pthread_setname_np needs _GNU_SOURCE on glibc, which Swift's Glibc module does not define.
#define _GNU_SOURCE
#include "CPUKernels.h"

#include <pthread.h>

void cpu_kernels_name_thread(const char *name) {
#if defined(__APPLE__)
    pthread_setname_np(name);
#elif defined(__linux__)
    pthread_setname_np(pthread_self(), name);   // Linux keeps 15 bytes; longer names fail harmlessly
#else
    (void)name;
#endif
}
