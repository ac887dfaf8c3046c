#include "direct_conv.h"

// Plain loops: the compiler vectorises the stride-1 rows; at stride 2 the copies are a small
// share of a pointwise layer's time (one pass over x or dx per 2 x out-channel multiply-adds
// per pixel).

void fm_subsample(const float *x, float *xs, int channels, int height, int width, int stride) {
    const int oh = (height - 1) / stride + 1, ow = (width - 1) / stride + 1;
    for (int c = 0; c < channels; c++)
        for (int oy = 0; oy < oh; oy++) {
            const float *src = x + ((long)c * height + (long)oy * stride) * width;
            float *dst = xs + ((long)c * oh + oy) * ow;
            for (int ox = 0; ox < ow; ox++) dst[ox] = src[ox * stride];
        }
}

void fm_upsample_with_zeros(const float *dxs, float *dx, int channels, int height, int width, int stride) {
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
