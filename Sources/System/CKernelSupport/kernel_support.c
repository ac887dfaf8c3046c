#include "kernel_support.h"

#if defined(__x86_64__)
int fm_kernels_fast(void) {
    static int has = -1; // stored with the same value by whichever thread gets here first
    int known = __atomic_load_n(&has, __ATOMIC_RELAXED);
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                __builtin_cpu_supports("fma");
        __atomic_store_n(&has, known, __ATOMIC_RELAXED);
    }
    return known;
}
#else
int fm_kernels_fast(void) { return 0; }
#endif

static _Thread_local int baseline_only = 0;
void fm_kernels_use_baseline(int yes) { baseline_only = yes; }
int fm_kernels_baseline_forced(void) { return baseline_only; }
int fm_kernels_use_fast(void) { return fm_kernels_fast() && !baseline_only; }
