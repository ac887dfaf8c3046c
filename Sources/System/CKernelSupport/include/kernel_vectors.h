// clang-format off
// (loops led by FM_UNROLL: see .clang-format)
#ifndef FACEMINE_KERNEL_VECTORS_H
#define FACEMINE_KERNEL_VECTORS_H
#include "kernel_support.h"
// The 16-float vectors the convolution kernels are written in (GCC/Clang vector extensions):
// one AVX-512 register in the AVX-512 copy, lowered to narrower registers in the baseline copy.

// The vector helpers are always inlined, so no vector crosses a call: the ABI note does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

// Kernel bodies are written with their shape as compile-time constants and rely on both of these:
// FM_INLINE puts a body into its caller, where the constants are known, and FM_UNROLL unrolls
// a loop whose trip count is one of them, so that its accumulators become named registers.
#define FM_INLINE static inline __attribute__((always_inline))
#define FM_UNROLL _Pragma("clang loop unroll(full)")

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));

FM_INLINE v16 load16(const float *p) { return *(const v16u *)p; }
FM_INLINE void store16(float *p, v16 v) { *(v16u *)p = v; }
// Half a vector, for 8-float tails.
typedef float v8 __attribute__((vector_size(32), aligned(4)));
FM_INLINE void store8(float *p, v8 v) { *(v8 *)p = v; }
// Every lane written out: `(v16){0} + s` would cost an addition per splat (0 + s is not s when
// s is -0, so the compiler keeps it) and a register broadcast; this is one broadcast load.
FM_INLINE v16 splat(float s) {
    return (v16){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s};
}

// Every kernel family is compiled twice: KERNELS(SUFFIX, TARGET) defines its functions as
// name_SUFFIX with TARGET's instruction set, and FM_PICK(name) is the copy to call now (the
// AVX-512 one where the CPU has it and tests have not forced the baseline; see kernel_support.h).
// The AVX-512 copy targets the subsets every AVX-512 CPU since Skylake-X has (F, VL, BW, DQ):
// with F alone, the compiler moves single lanes and 8-float halves through memory.
#if defined(__x86_64__)
#define FM_AVX512 "avx512f,avx512vl,avx512bw,avx512dq,fma"
#define FM_BOTH_COPIES(KERNELS) KERNELS(baseline, ) KERNELS(avx512, __attribute__((target(FM_AVX512))))
#define FM_PICK(name) (fm_kernels_use_fast() ? name##_avx512 : name##_baseline)
#else
#define FM_BOTH_COPIES(KERNELS) KERNELS(baseline, )
#define FM_PICK(name) name##_baseline
#endif

// The one-channel layers' weight gradients end as per-lane partial sums, `sums[co][slot][16]`
// with slots 0..<taps for the weights and slot `taps` for the bias: dw[co][tap] and db[co]
// (db optional) are their lane totals, for out channels c0..<c1.
static inline void add_lanes(const float *sums, int taps, float *dw, float *db, int c0, int c1) {
    for (int co = c0; co < c1; co++)
        for (int slot = 0; slot <= taps; slot++) {
            float sum = 0;
            for (int j = 0; j < 16; j++) sum += sums[((long)co * (taps + 1) + slot) * 16 + j];
            if (slot < taps) dw[co * taps + slot] = sum;
            else if (db) db[co] = sum;
        }
}

// Transposes 16 vectors in place (r[i][l] becomes r[l][i]): four butterfly stages, each
// swapping the off-diagonal d x d blocks of every 2d x 2d block, d = 8, 4, 2, 1.
#define FM_LANE_LO(d, l) (((l) & (d)) ? 16 + (l) - (d) : (l))
#define FM_LANE_HI(d, l) (((l) & (d)) ? 16 + (l) : (l) + (d))
#define FM_LANES(F, d)                                                                                  \
    F(d, 0), F(d, 1), F(d, 2), F(d, 3), F(d, 4), F(d, 5), F(d, 6), F(d, 7), F(d, 8), F(d, 9), F(d, 10), \
        F(d, 11), F(d, 12), F(d, 13), F(d, 14), F(d, 15)
#define FM_BUTTERFLY(r, d)                                                                              \
    for (int i = 0; i < 16; i++)                                                                        \
        if (!(i & (d))) {                                                                               \
            v16 lo = __builtin_shufflevector(r[i], r[i + (d)], FM_LANES(FM_LANE_LO, d));                \
            v16 hi = __builtin_shufflevector(r[i], r[i + (d)], FM_LANES(FM_LANE_HI, d));                \
            r[i] = lo;                                                                                  \
            r[i + (d)] = hi;                                                                            \
        }
FM_INLINE void transpose16(v16 r[16]) {
    FM_BUTTERFLY(r, 8)
    FM_BUTTERFLY(r, 4)
    FM_BUTTERFLY(r, 2)
    FM_BUTTERFLY(r, 1)
}
#endif
