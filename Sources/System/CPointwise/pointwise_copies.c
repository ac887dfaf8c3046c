// clang-format off
// (loops led by FM_UNROLL: see .clang-format)
#include "pointwise.h"
#include "kernel_vectors.h"

// dx of a 1x1 convolution at a stride: the subsampled gradient at the pixels the kernel read,
// zero elsewhere. The pass is bound by writing dx (three quarters zeros at stride 2), so at
// stride 2 on rows of whole cache lines it writes with non-temporal stores: a plain store
// first reads the line it fills, which doubled the traffic.

FM_INLINE void stream16(float *p, v16 v) { __builtin_nontemporal_store(v, (v16 *)p); }

// Pairs of rows (2 x width floats, whole 64-byte lines at aligned addresses, width a multiple
// of 8): the even row interleaves the gradients with zeros, 8 of them to a vector, the odd row
// is zeros. (Building the pair in a buffer with scalar stores and streaming it out was no
// faster than plain stores: each vector load waited for the scalar stores it overlapped.)
FM_INLINE void upsample2_rows(const float *dxs, float *dx, int channels, int height,
                                                                 int width) {
    const int ow = width / 2;
    const v16 zero = (v16){0};
    const v8 zero8 = (v8){0};
    for (int c = 0; c < channels; c++)
        for (int y = 0; y < height; y += 2) {
            const float *src = dxs + ((long)c * (height / 2) + y / 2) * ow;
            float *dst = dx + ((long)c * height + y) * width;
            int x = 0;
            for (; x + 16 <= width; x += 16) {
                const v8 g = *(const v8 *)(src + x / 2);
                stream16(dst + x, __builtin_shufflevector(g, zero8, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
            }
            if (x < width) {  // 8 floats of the even row left (4 gradients), then the odd row starts
                const v8 g = {src[x / 2], src[x / 2 + 1], src[x / 2 + 2], src[x / 2 + 3], 0, 0, 0, 0};
                stream16(dst + x, __builtin_shufflevector(g, zero8, 0, 8, 1, 9, 2, 10, 3, 11, 8, 8, 8, 8, 8, 8, 8, 8));
                x += 16;
            }
            for (; x < 2 * width; x += 16) stream16(dst + x, zero);
        }
}

#define FM_UPSAMPLE(SUFFIX, TARGET)                                                                      \
    TARGET static void upsample2_##SUFFIX(const float *dxs, float *dx, int channels, int height, int width) { \
        upsample2_rows(dxs, dx, channels, height, width);                                                 \
    }
FM_BOTH_COPIES(FM_UPSAMPLE)

void fm_upsample_with_zeros(const float *dxs, float *dx, int channels, int height, int width, int stride) {
    if (stride == 2 && height % 2 == 0 && width % 8 == 0 && width <= 256 &&
        ((unsigned long)dx & 63) == 0) {
        FM_PICK(upsample2)(dxs, dx, channels, height, width);
#if defined(__x86_64__)
        __builtin_ia32_sfence();  // non-temporal stores are weakly ordered: done before dx is read
#endif
        return;
    }
    const int oh = (height - 1) / stride + 1, ow = (width - 1) / stride + 1;
    for (int c = 0; c < channels; c++)
        for (int y = 0; y < height; y++) {
            float *dst = dx + ((long)c * height + y) * width;
            for (int x = 0; x < width; x++) dst[x] = 0;
            if (y % stride) continue;
            const float *src = dxs + ((long)c * oh + y / stride) * ow;
            for (int ox = 0; ox < ow; ox++) dst[ox * stride] = src[ox];
        }
}
