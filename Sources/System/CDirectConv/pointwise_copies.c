#include "direct_conv.h"

// dx of a 1x1 convolution at a stride: the subsampled gradient at the pixels the kernel read,
// zero elsewhere. A plain loop: the pass is bound by writing dx.

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
