#include "peak.h"

double fm_stream_copy(float *dst, const float *src, long n) {
    for (long i = 0; i < n; i++) dst[i] = src[i];
    return 8.0 * (double)n;
}

#if defined(__x86_64__)
#include <immintrin.h>

// Sixteen accumulators: two FMA pipes x four cycles of latency need eight; sixteen leaves room
// for wider or deeper machines.
#define FM_ACCUMULATORS 16

__attribute__((target("avx512f")))
static double loop512(long iterations, float *sink) {
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

__attribute__((target("avx2,fma")))
static double loop256(long iterations, float *sink) {
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
    case 16: return loop512(iterations, sink);
    case 8: return loop256(iterations, sink);
    default: *sink = 0; return 0;
    }
}
#else
int fm_fma_lanes(void) { return 0; }
double fm_fma_peak_loop(long iterations, float *sink) { (void)iterations; *sink = 0; return 0; }
#endif
