#ifndef FACEMINE_POINTWISE_KERNELS_H
#define FACEMINE_POINTWISE_KERNELS_H
// 1x1 convolutions at stride 2, padding 0: ResNet-18's shortcut projections. Output pixel
// (oy, ox) reads input pixel (2oy, 2ox) of every channel. As an im2col product these have
// K = in channels (64-256) and a matrix that is only a subsampled copy of x, so the copy, the
// scatter of the product back to NCHW and the hand-offs between them took more time than the
// multiply-adds (32-59% of peak at batch 64). Here, as in the 3x3 kernels, 16 output channels
// go to a vector; without taps to share a loaded input, each input value feeds one
// multiply-add per vector, so the tiles are wider instead (12 to 18 accumulators). Planes of
// up to 9 outputs go whole, a few images at a time; larger ones in 6-pixel pieces of a row.
// Included by direct_conv.c, which instantiates them per geometry and instruction set.
#include "kernel_vectors.h"

// Offset, in an input plane of width IN_W, of the pixel that output pixel p reads.
static inline __attribute__((always_inline)) int pw_source(int p, const int IN_W, const int OUT_W) {
    return (p / OUT_W) * 2 * IN_W + (p % OUT_W) * 2;
}

// STRIP output pixels from p0 (a whole plane, or a piece of one row) of B images through one
// 16-channel block: out[img][vb*16 + j][pixel] = sum over r < R of packed[r][j] * in[img][r][pixel'].
// Forward (T = 0): "in" is x and pixel' the subsampled pixel. Input gradient (T = 1): "in" is
// dY, read at the output pixel itself, and the sums go to the subsampled pixels of dx.
static inline __attribute__((always_inline)) void pw_tile(
    const float *in, const float *packed, float *out, int img, int R, int V, int vb, int p0,
    const int IN_W, const int OUT_W, const int T, const int B, const int STRIP) {
    const int IP = IN_W * IN_W, OP = OUT_W * OUT_W, WHOLE = STRIP == OP;
    const int in_plane = T ? OP : IP, out_plane = T ? IP : OP;
    // The strided side of column o: base + step(o); the dense side: p0 + o.
    const int base = WHOLE ? 0 : pw_source(p0, IN_W, OUT_W);
#define PW_STRIDED(o) (base + (WHOLE ? pw_source((o), IN_W, OUT_W) : 2 * (o)))
    v16 acc[4][9];
    _Pragma("clang loop unroll(full)") for (int b = 0; b < B; b++)
        _Pragma("clang loop unroll(full)") for (int o = 0; o < STRIP; o++) acc[b][o] = (v16){0};
    for (int r = 0; r < R; r++) {
        const v16 w = load16(packed + r * 16);
        _Pragma("clang loop unroll(full)") for (int b = 0; b < B; b++) {
            const float *src = in + ((long)(img + b) * R + r) * in_plane;
            _Pragma("clang loop unroll(full)") for (int o = 0; o < STRIP; o++)
                acc[b][o] += w * splat(src[T ? p0 + o : PW_STRIDED(o)]);
        }
    }
    _Pragma("clang loop unroll(full)") for (int b = 0; b < B; b++) {
        float *dst = out + ((long)(img + b) * V + vb * 16) * out_plane;
        _Pragma("clang loop unroll(full)") for (int o = 0; o < STRIP; o++) {
            const int at = T ? PW_STRIDED(o) : p0 + o;
            for (int j = 0; j < 16; j++) dst[j * out_plane + at] = acc[b][o][j];
        }
    }
#undef PW_STRIDED
}

// B images through every block in block_begin..<block_end (`packed` starts at block_begin).
// The input gradient clears each block's dx planes first: the kernel writes only the even pixels.
static inline __attribute__((always_inline)) void pw_image_blocks(
    const float *in, const float *packed, float *out, int img, int R, int V, int block_begin, int block_end,
    const int IN_W, const int OUT_W, const int T, const int B, const int STRIP) {
    const int OP = OUT_W * OUT_W, IP = IN_W * IN_W;
    for (int vb = block_begin; vb < block_end; vb++) {
        const float *block_weights = packed + (long)(vb - block_begin) * R * 16;
        if (T)
            for (int b = 0; b < B; b++) {
                float *planes = out + ((long)(img + b) * V + vb * 16) * IP;
                for (int i = 0; i < 16 * IP; i++) planes[i] = 0;
            }
        for (int p0 = 0; p0 < OP; p0 += STRIP)
            pw_tile(in, block_weights, out, img, R, V, vb, p0, IN_W, OUT_W, T, B, STRIP);
    }
}

// Images outermost, as in the 3x3 kernels on large planes: a group of images is read from
// memory once for all blocks. T selects the input gradient.
static inline __attribute__((always_inline)) void pw_blocks(
    const float *in, const float *packed, float *out, int n, int R, int V, int block_begin, int block_end,
    const int IN_W, const int OUT_W, const int T, const int B, const int STRIP) {
    int img = 0;
    for (; img + B <= n; img += B)
        pw_image_blocks(in, packed, out, img, R, V, block_begin, block_end, IN_W, OUT_W, T, B, STRIP);
    for (; img < n; img++)
        pw_image_blocks(in, packed, out, img, R, V, block_begin, block_end, IN_W, OUT_W, T, 1, STRIP);
}

// CB channels' sums of one block over images img_begin..<img_end: sums[c][16] (+)= sum over
// those images and output pixels p of dy_b[img][p][16] * x[img][c][source(p)]. `first` starts
// the sums instead of adding to them.
static inline __attribute__((always_inline)) void pw_weight_grad_group(
    const float *x, const float *dyb, float *sums, int img_begin, int img_end, int C, int c, int first,
    const int CB, const int IN_W, const int OUT_W) {
    const int IP = IN_W * IN_W, OP = OUT_W * OUT_W;
    v16 acc[16];
    _Pragma("clang loop unroll(full)") for (int ci = 0; ci < CB; ci++) acc[ci] = first ? (v16){0} : load16(sums + ci * 16);
    for (int img = img_begin; img < img_end; img++) {
        const float *xs = x + ((long)img * C + c) * IP;
        const float *dyi = dyb + (long)img * OP * 16;
        for (int oy = 0; oy < OUT_W; oy++)
            for (int ox = 0; ox < OUT_W; ox++) {
                const v16 d = load16(dyi + (oy * OUT_W + ox) * 16);
                const float *xp = xs + oy * 2 * IN_W + ox * 2;
                _Pragma("clang loop unroll(full)") for (int ci = 0; ci < CB; ci++) acc[ci] += d * splat(xp[ci * IP]);
            }
    }
    _Pragma("clang loop unroll(full)") for (int ci = 0; ci < CB; ci++) store16(sums + ci * 16, acc[ci]);
}

// packed_grad[ob][c][16] = sum over images and output pixels of dy_b[ob][img][p][16] * x[img][c][source(p)],
// x in its own layout; in channels c_begin..<c_end, 16 at a time (even bounds). On planes of
// 12x12 and more (OUTER) images go outermost: one image's x (at most 590 KB, the 48x48 -> 24x24
// shortcut's 64 channels) stays in L2 while every block reads it, and the sums go back to
// packed_grad between images. On smaller planes an image holds 4 to 9 output pixels, too few
// to pay for that round trip, so the sums stay in registers across all images.
static inline __attribute__((always_inline)) void pw_weight_grad_blocks(
    const float *x, const float *dy_b, float *packed_grad, int n, int C, int c_begin, int c_end,
    int block_begin, int block_end, const int IN_W, const int OUT_W) {
    const int OP = OUT_W * OUT_W, OUTER = IN_W >= 12;
    for (int pass = 0; pass < (OUTER ? n : 1); pass++)
        for (int ob = block_begin; ob < block_end; ob++) {
            const float *dyb = dy_b + (long)ob * n * OP * 16;
            float *sums = packed_grad + (long)ob * C * 16;
            const int img_begin = OUTER ? pass : 0, img_end = OUTER ? pass + 1 : n;
            int c = c_begin;
            for (; c + 16 <= c_end; c += 16)
                pw_weight_grad_group(x, dyb, sums + c * 16, img_begin, img_end, C, c, pass == 0, 16, IN_W, OUT_W);
            for (; c < c_end; c += 2)
                pw_weight_grad_group(x, dyb, sums + c * 16, img_begin, img_end, C, c, pass == 0, 2, IN_W, OUT_W);
        }
}
#endif
