#ifndef FACEMINE_KERNEL_VECTORS_H
#define FACEMINE_KERNEL_VECTORS_H
// The 16-float vectors the convolution kernels are written in (GCC/Clang vector extensions):
// one AVX-512 register in the AVX-512 copy, lowered to narrower registers in the baseline copy.

// The vector helpers are always inlined, so no vector crosses a call: the ABI note does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));

static inline __attribute__((always_inline)) v16 load16(const float *p) { return *(const v16u *)p; }
static inline __attribute__((always_inline)) void store16(float *p, v16 v) { *(v16u *)p = v; }
// Every lane written out: `(v16){0} + s` would cost an addition per splat (0 + s is not s when
// s is -0, so the compiler keeps it) and a register broadcast; this is one broadcast load.
static inline __attribute__((always_inline)) v16 splat(float s) {
    return (v16){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s};
}
#endif
