#include "peak.h"

#include <pthread.h>
#include <time.h>

// Threads spin until `go`, so all of them copy at once (a pool that wakes workers one by one
// let a 4 ms copy run on one thread, and measured a single core's bandwidth).
struct copy_job {
    float *dst;
    const float *src;
    long n;
    const int *go;
};

static void *copy_slice(void *arg) {
    struct copy_job *job = arg;
    while (!__atomic_load_n(job->go, __ATOMIC_ACQUIRE)) {}
    for (long i = 0; i < job->n; i++) job->dst[i] = job->src[i];
    return 0;
}

double fm_stream_copy_seconds(float *dst, const float *src, long n, int threads) {
    enum { MAX_THREADS = 256 };
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    pthread_t ids[MAX_THREADS];
    struct copy_job jobs[MAX_THREADS];
    int go = 0, started = 0;
    for (int t = 0; t < threads; t++) {
        long begin = n * t / threads, end = n * (t + 1) / threads;
        jobs[t] = (struct copy_job){dst + begin, src + begin, end - begin, &go};
        if (pthread_create(&ids[t], 0, copy_slice, &jobs[t]) != 0) break;
        started++;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    for (int t = 0; t < started; t++) pthread_join(ids[t], 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    // Threads that could not start left their slices uncopied: count only what was copied.
    return started == threads ? (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec) : -1;
}

#if defined(__x86_64__)
#include <immintrin.h>

// Sixteen accumulators: two FMA pipes x four cycles of latency need eight; sixteen leaves room
// for wider or deeper machines.
#define FM_ACCUMULATORS 16

__attribute__((target("avx512f"))) static double loop512(long iterations, float *sink) {
    __m512 acc[FM_ACCUMULATORS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < FM_ACCUMULATORS; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long n = 0; n < iterations; n++)
        for (int i = 0; i < FM_ACCUMULATORS; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    __m512 total = acc[0];
    for (int i = 1; i < FM_ACCUMULATORS; i++) total = _mm512_add_ps(total, acc[i]);
    *sink = _mm512_reduce_add_ps(total);
    return (double)iterations * FM_ACCUMULATORS * 16 * 2;
}

__attribute__((target("avx2,fma"))) static double loop256(long iterations, float *sink) {
    __m256 acc[FM_ACCUMULATORS];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < FM_ACCUMULATORS; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long n = 0; n < iterations; n++)
        for (int i = 0; i < FM_ACCUMULATORS; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    __m256 total = acc[0];
    for (int i = 1; i < FM_ACCUMULATORS; i++) total = _mm256_add_ps(total, acc[i]);
    float lanes[8];
    _mm256_storeu_ps(lanes, total);
    *sink = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
    return (double)iterations * FM_ACCUMULATORS * 8 * 2;
}

int fm_fma_lanes(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 16;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 8;
    return 0;
}

double fm_fma_peak_loop(long iterations, float *sink) {
    switch (fm_fma_lanes()) {
    case 16:
        return loop512(iterations, sink);
    case 8:
        return loop256(iterations, sink);
    default:
        *sink = 0;
        return 0;
    }
}
#else
int fm_fma_lanes(void) { return 0; }
double fm_fma_peak_loop(long iterations, float *sink) {
    (void)iterations;
    *sink = 0;
    return 0;
}
#endif
