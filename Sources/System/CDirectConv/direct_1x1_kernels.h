// clang-format off
// (loops led by FM_UNROLL: see .clang-format)
#ifndef FACEMINE_DIRECT_1X1_KERNELS_H
#define FACEMINE_DIRECT_1X1_KERNELS_H
// 1x1 convolutions at stride 2, padding 0, on the smallest planes: ResNet-18's shortcut
// projections 6x6 -> 3x3 and 3x3 -> 2x2 (imagenet stem, layers 3 and 4). Output pixel (oy, ox)
// reads input pixel (2oy, 2ox) of every channel. As im2col products the product itself is
// fast, but the subsampled copy of x, the scatter of the product back to NCHW and the
// hand-offs between them cost more than the multiply-adds.
// Here, as in the 3x3 kernels, 16 output channels go to a vector and a few images' whole
// planes to a tile (16 or 18 accumulators); with no taps to share a loaded input, each input
// value feeds one multiply-add. On larger planes (12x12 -> 6x6 and up) these kernels lost to
// im2col + BLAS: writing the 16 channels of each output pixel one float at a time weighs more
// where in channels are few (64-128), so those shortcuts stay with the batched algorithm.
// Included by direct_conv.c, which instantiates them per geometry and instruction set.
#include "kernel_vectors.h"

// Offset, in an input plane of width IN_W, of the pixel that output pixel p reads.
FM_INLINE int pw_source(int p, const int IN_W, const int OUT_W) {
    return (p / OUT_W) * 2 * IN_W + (p % OUT_W) * 2;
}

// B images' whole planes through one 16-channel block: out[img][vb*16 + j][pixel] = sum over
// r < R of packed[r][j] * in[img][r][pixel']. Forward (T = 0): "in" is x and pixel' the
// subsampled pixel. Input gradient (T = 1): "in" is dY, read at the output pixel itself, and
// the sums go to the subsampled pixels of dx.
FM_INLINE void pw_tile(
    const float *in, const float *packed, float *out, int img, int R, int V, int vb,
    const int IN_W, const int OUT_W, const int T, const int B) {
    const int IP = IN_W * IN_W, OP = OUT_W * OUT_W;
    const int in_plane = T ? OP : IP, out_plane = T ? IP : OP;
    v16 acc[4][9];
    FM_UNROLL for (int b = 0; b < B; b++)
        FM_UNROLL for (int o = 0; o < OP; o++) acc[b][o] = (v16){0};
    for (int r = 0; r < R; r++) {
        const v16 w = load16(packed + r * 16);
        FM_UNROLL for (int b = 0; b < B; b++) {
            const float *src = in + ((long)(img + b) * R + r) * in_plane;
            FM_UNROLL for (int o = 0; o < OP; o++)
                acc[b][o] += w * splat(src[T ? o : pw_source(o, IN_W, OUT_W)]);
        }
    }
    FM_UNROLL for (int b = 0; b < B; b++) {
        float *dst = out + ((long)(img + b) * V + vb * 16) * out_plane;
        FM_UNROLL for (int o = 0; o < OP; o++) {
            const int at = T ? pw_source(o, IN_W, OUT_W) : o;
            for (int j = 0; j < 16; j++) dst[j * out_plane + at] = acc[b][o][j];
        }
    }
}

// Blocks block_begin..<block_end (`packed` starts at block_begin), B images at a time. The
// input gradient clears each block's dx planes first: the kernel writes only the even pixels.
FM_INLINE void pw_blocks(
    const float *in, const float *packed, float *out, int n, int R, int V, int block_begin, int block_end,
    const int IN_W, const int OUT_W, const int T, const int B) {
    for (int vb = block_begin; vb < block_end; vb++) {
        const float *block_weights = packed + (long)(vb - block_begin) * R * 16;
        if (T)
            for (int img = 0; img < n; img++) {
                float *planes = out + ((long)img * V + vb * 16) * IN_W * IN_W;
                for (int i = 0; i < 16 * IN_W * IN_W; i++) planes[i] = 0;
            }
        int img = 0;
        for (; img + B <= n; img += B) pw_tile(in, block_weights, out, img, R, V, vb, IN_W, OUT_W, T, B);
        for (; img < n; img++) pw_tile(in, block_weights, out, img, R, V, vb, IN_W, OUT_W, T, 1);
    }
}

// packed_grad[ob][c][16] = sum over images and output pixels of dy_b[ob][img][p][16] * x[img][c][source(p)],
// x in its own layout; OB blocks of out channels and CB in channels at a time. An image holds only
// 4 or 9 output pixels, so the sums stay in registers across all images. A tile of 4 blocks x 4
// channels loads 4 vectors of dY and broadcasts 4 values of x per 16 multiply-adds, where one
// block x 16 channels would broadcast an x value per multiply-add and read all of x per block.
FM_INLINE void pw_weight_grad_tile(
    const float *x, const float *dyb, float *pg, int n, int C, int c, const int OB, const int CB, const int IN_W,
    const int OUT_W) {
    const int IP = IN_W * IN_W, OP = OUT_W * OUT_W;
    const long block_dy = (long)n * OP * 16, block_pg = (long)C * 16;
    v16 acc[4][4];
    FM_UNROLL for (int b = 0; b < OB; b++)
        FM_UNROLL for (int ci = 0; ci < CB; ci++) acc[b][ci] = (v16){0};
    for (int img = 0; img < n; img++) {
        const float *xs = x + ((long)img * C + c) * IP;
        const float *dyi = dyb + (long)img * OP * 16;
        FM_UNROLL for (int p = 0; p < OP; p++) {
            v16 d[4];
            FM_UNROLL for (int b = 0; b < OB; b++) d[b] = load16(dyi + b * block_dy + p * 16);
            FM_UNROLL for (int ci = 0; ci < CB; ci++) {
                const v16 v = splat(xs[ci * IP + pw_source(p, IN_W, OUT_W)]);
                FM_UNROLL for (int b = 0; b < OB; b++) acc[b][ci] += d[b] * v;
            }
        }
    }
    FM_UNROLL for (int b = 0; b < OB; b++)
        FM_UNROLL for (int ci = 0; ci < CB; ci++) store16(pg + b * block_pg + (c + ci) * 16, acc[b][ci]);
}

FM_INLINE void pw_weight_grad_channels(
    const float *x, const float *dyb, float *pg, int n, int C, int c_begin, int c_end, const int OB, const int IN_W,
    const int OUT_W) {
    int c = c_begin;
    for (; c + 4 <= c_end; c += 4) pw_weight_grad_tile(x, dyb, pg, n, C, c, OB, 4, IN_W, OUT_W);
    for (; c < c_end; c += 2) pw_weight_grad_tile(x, dyb, pg, n, C, c, OB, 2, IN_W, OUT_W);
}

FM_INLINE void pw_weight_grad_blocks(
    const float *x, const float *dy_b, float *packed_grad, int n, int C, int c_begin, int c_end,
    int block_begin, int block_end, const int IN_W, const int OUT_W) {
    const int OP = OUT_W * OUT_W;
    for (int ob = block_begin; ob < block_end;) {
        const float *dyb = dy_b + (long)ob * n * OP * 16;
        float *pg = packed_grad + (long)ob * C * 16;
        switch (block_end - ob) {
        case 1: pw_weight_grad_channels(x, dyb, pg, n, C, c_begin, c_end, 1, IN_W, OUT_W); ob += 1; break;
        case 2: pw_weight_grad_channels(x, dyb, pg, n, C, c_begin, c_end, 2, IN_W, OUT_W); ob += 2; break;
        case 3: pw_weight_grad_channels(x, dyb, pg, n, C, c_begin, c_end, 3, IN_W, OUT_W); ob += 3; break;
        default: pw_weight_grad_channels(x, dyb, pg, n, C, c_begin, c_end, 4, IN_W, OUT_W); ob += 4; break;
        }
    }
}
#endif
