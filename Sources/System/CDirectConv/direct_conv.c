// clang-format off
// (loops led by FM_UNROLL: see .clang-format)
#include "direct_conv.h"
#include "direct_geometries.h"
#include "kernel_vectors.h"
#include "direct_1x1_kernels.h"

#define FM_KERNEL_OF(ID, NAME, K, IN_W, OUT_W, S, F, I, W) K,
#define FM_IN_WIDTH_OF(ID, NAME, K, IN_W, OUT_W, S, F, I, W) IN_W,
#define FM_OUT_WIDTH_OF(ID, NAME, K, IN_W, OUT_W, S, F, I, W) OUT_W,
#define FM_STRIDE_OF(ID, NAME, K, IN_W, OUT_W, S, F, I, W) S,
#define FM_NAME_OF(ID, NAME, K, IN_W, OUT_W, S, F, I, W) NAME,
static const int kernels[] = {FM_DIRECT_GEOMETRIES(FM_KERNEL_OF)}, in_widths[] = {FM_DIRECT_GEOMETRIES(FM_IN_WIDTH_OF)},
                 out_widths[] = {FM_DIRECT_GEOMETRIES(FM_OUT_WIDTH_OF)}, strides[] = {FM_DIRECT_GEOMETRIES(FM_STRIDE_OF)};
static const char *const names[] = {FM_DIRECT_GEOMETRIES(FM_NAME_OF)};

// Packed 3x3 weights come in blocks of 16 out channels: one in channel's share of a block is
// 9 taps x 16 lanes.
enum { BLOCK_WEIGHTS_PER_CHANNEL = 9 * 16 };

// 48x48 planes go images outermost (row_weight_grad_blocks's OUTER), so x keeps its own layout.
int fm_direct_weight_grad_wants_x_by_channel(int geometry) {
    return geometry != FM_3X3_48_TO_48 && kernels[geometry] == 3;
}

int fm_direct_taps(int geometry) { return kernels[geometry] * kernels[geometry]; }

int fm_direct_geometry(int kernel, int in_width, int out_width, int stride) {
    for (int g = 0; g < FM_DIRECT_GEOMETRY_COUNT; g++)
        if (kernels[g] == kernel && in_widths[g] == in_width && out_widths[g] == out_width && strides[g] == stride)
            return g;
    return -1;
}

int fm_direct_geometry_count(void) { return FM_DIRECT_GEOMETRY_COUNT; }

const char *fm_direct_geometry_shape(int geometry, int *kernel, int *in_width, int *out_width, int *stride) {
    *kernel = kernels[geometry];
    *in_width = in_widths[geometry];
    *out_width = out_widths[geometry];
    *stride = strides[geometry];
    return names[geometry];
}

// The tap (kh * 3 + kw) through which output pixel p reads input pixel q, or -1. Called with
// constants only, so the compiler folds every use into straight-line code.
FM_INLINE int tap_of(int p, int q, int in_w, int out_w, int s) {
    int kh = q / in_w - (p / out_w) * s + 1, kw = q % in_w - (p % out_w) * s + 1;
    return kh >= 0 && kh < 3 && kw >= 0 && kw < 3 ? kh * 3 + kw : -1;
}

// out[img][v][o] for o in O0..<O0+ON = sum over r < R, in pixels i of packed[vb][r][tap][16] * in[img][r][i].
// transposed: the "in" plane is the output plane of the convolution and "out" its input plane.
FM_INLINE void apply_tile(
    const float *in, const float *packed, float *out, int img, int R, int V, int vb,
    const int IN_W, const int OUT_W, const int S, const int T, const int B, const int O0, const int ON) {
    const int IP = T ? OUT_W * OUT_W : IN_W * IN_W, OP = T ? IN_W * IN_W : OUT_W * OUT_W;
    // Fixed-size arrays (B <= 4, ON <= 9): with every index a constant after unrolling, the
    // compiler keeps them in registers (variable-length ones would live on the stack).
    v16 acc[4][9];
    FM_UNROLL for (int b = 0; b < B; b++)
        FM_UNROLL for (int o = 0; o < ON; o++) acc[b][o] = (v16){0};
    const float *w = packed;  // this block's weights
    for (int r = 0; r < R; r++, w += BLOCK_WEIGHTS_PER_CHANNEL) {
        v16 wt[9];
        FM_UNROLL for (int t = 0; t < 9; t++) wt[t] = load16(w + t * 16);
        FM_UNROLL for (int b = 0; b < B; b++) {
            const float *src = in + ((long)(img + b) * R + r) * IP;
            FM_UNROLL for (int i = 0; i < IP; i++) {
                v16 s = splat(src[i]);
                FM_UNROLL for (int o = 0; o < ON; o++) {
                    int t = T ? tap_of(i, O0 + o, IN_W, OUT_W, S) : tap_of(O0 + o, i, IN_W, OUT_W, S);
                    if (t >= 0) acc[b][o] += wt[t] * s;
                }
            }
        }
    }
    FM_UNROLL for (int b = 0; b < B; b++) {
        float *dst = out + ((long)(img + b) * V + vb * 16) * OP + O0;
        FM_UNROLL for (int o = 0; o < ON; o++)
            for (int j = 0; j < 16; j++) dst[j * OP + o] = acc[b][o][j];
    }
}

// Planes of more than 9 outputs go in strips of `STRIP` pixels (one row of a 6x6 plane), so
// the accumulators still fit in registers.
FM_INLINE void apply_blocks(
    const float *in, const float *packed, float *out, int n, int R, int V, int block_begin, int block_end,
    const int IN_W, const int OUT_W, const int S, const int T, const int B, const int STRIP) {
    const int OP = T ? IN_W * IN_W : OUT_W * OUT_W;
    for (int vb = block_begin; vb < block_end; vb++) {
        const float *block_weights = packed + (long)(vb - block_begin) * R * BLOCK_WEIGHTS_PER_CHANNEL;
        int img = 0;
        for (; img + B <= n; img += B)
            FM_UNROLL for (int o0 = 0; o0 < OP; o0 += STRIP)
                apply_tile(in, block_weights, out, img, R, V, vb, IN_W, OUT_W, S, T, B, o0, STRIP);
        for (; img < n; img++)
            FM_UNROLL for (int o0 = 0; o0 < OP; o0 += STRIP)
                apply_tile(in, block_weights, out, img, R, V, vb, IN_W, OUT_W, S, T, 1, o0, STRIP);
    }
}

// packed_grad[ob][c][tap][16] = sum over images and pixel pairs of dy_b[ob][img][p][16] * x_t[c][img][q].
// Both operands are laid out so the loop over images walks memory in order: one block's dY
// (64 images x 9 pixels x 16 channels: 37 KB) stays in L1 while every channel pair reuses it.
FM_INLINE void weight_grad_blocks(
    const float *x_t, const float *dy_b, float *packed_grad, int n, int C, int c_begin, int c_end,
    int block_begin, int block_end, const int IN_W, const int OUT_W, const int S, const int STRIP) {
    enum { CB = 2 };
    const int IP = IN_W * IN_W, OP = OUT_W * OUT_W;
    for (int ob = block_begin; ob < block_end; ob++) {
        const float *dyb = dy_b + (long)ob * n * OP * 16;
        for (int c0 = c_begin; c0 < c_end; c0 += CB) {
            v16 acc[CB][9];
            FM_UNROLL for (int ci = 0; ci < CB; ci++)
                FM_UNROLL for (int t = 0; t < 9; t++) acc[ci][t] = (v16){0};
            for (int img = 0; img < n; img++) {
                FM_UNROLL for (int p0 = 0; p0 < OP; p0 += STRIP) {
                    v16 dyv[9];
                    FM_UNROLL for (int p = 0; p < STRIP; p++)
                        dyv[p] = load16(dyb + ((long)img * OP + p0 + p) * 16);
                    FM_UNROLL for (int ci = 0; ci < CB; ci++) {
                        const float *xs = x_t + ((long)(c0 + ci) * n + img) * IP;
                        FM_UNROLL for (int q = 0; q < IP; q++) {
                            v16 s = splat(xs[q]);
                            FM_UNROLL for (int p = 0; p < STRIP; p++) {
                                int t = tap_of(p0 + p, q, IN_W, OUT_W, S);
                                if (t >= 0) acc[ci][t] += dyv[p] * s;
                            }
                        }
                    }
                }
            }
            // Constant trip counts (C is a multiple of 16): the accumulators stay in registers.
            FM_UNROLL for (int ci = 0; ci < CB; ci++)
                FM_UNROLL for (int t = 0; t < 9; t++)
                    store16(packed_grad + (((long)ob * C + c0 + ci) * 9 + t) * 16, acc[ci][t]);
        }
    }
}

// Planes of 12x12 and more, stride 1 (layer1 of the imagenet stem, the small stem's layers 1-2,
// MyCNN's conv2): unrolling whole planes would take the compiler minutes, so runtime loops walk
// the rows and the 6-pixel pieces of each row, and each piece is one of nine unrolled bodies
// (top, middle or bottom row; left edge, middle or right edge of the row), reading the 3 x 8
// input pixels around it. transposed (the input gradient) flips the kernel. W is the plane's
// width, a multiple of 6.
enum { PIECE = 6 };  // output pixels of a row that one unrolled body computes

// The body for one piece: COL 0 = left edge (ox0 = 0), 1 = middle (runtime ox0), 2 = right edge.
FM_INLINE void row_tile(
    const float *in, const float *packed, float *out, int img, int R, int V, int vb, int oy, int ox0,
    const int W, const int TOP, const int BOTTOM, const int COL, const int T, const int B) {
    v16 acc[4][PIECE];
    FM_UNROLL for (int b = 0; b < B; b++)
        FM_UNROLL for (int o = 0; o < PIECE; o++) acc[b][o] = (v16){0};
    const float *w = packed;  // this block's weights
    for (int r = 0; r < R; r++, w += BLOCK_WEIGHTS_PER_CHANNEL) {
        v16 wt[9];
        FM_UNROLL for (int t = 0; t < 9; t++) wt[t] = load16(w + t * 16);
        FM_UNROLL for (int b = 0; b < B; b++) {
            const float *plane = in + ((long)(img + b) * R + r) * W * W;
            FM_UNROLL for (int d = -1; d <= 1; d++) {
                if ((TOP && d < 0) || (BOTTOM && d > 0)) continue;
                const float *row = plane + (oy + d) * W + ox0;
                FM_UNROLL for (int cx = -1; cx <= PIECE; cx++) {
                    if ((COL == 0 && cx < 0) || (COL == 2 && cx >= PIECE)) continue;  // outside the plane
                    v16 s = splat(row[cx]);
                    FM_UNROLL for (int o = 0; o < PIECE; o++) {
                        const int e = cx - o;  // input column minus output column
                        if (e < -1 || e > 1) continue;
                        const int t = T ? (1 - d) * 3 + (1 - e) : (d + 1) * 3 + (e + 1);
                        acc[b][o] += wt[t] * s;
                    }
                }
            }
        }
    }
    FM_UNROLL for (int b = 0; b < B; b++) {
        float *dst = out + ((long)(img + b) * V + vb * 16) * W * W + oy * W + ox0;
        FM_UNROLL for (int o = 0; o < PIECE; o++)
            for (int j = 0; j < 16; j++) dst[j * W * W + o] = acc[b][o][j];
    }
}

FM_INLINE void row_pieces(
    const float *in, const float *packed, float *out, int img, int R, int V, int vb, int oy,
    const int W, const int TOP, const int BOTTOM, const int T, const int B) {
    row_tile(in, packed, out, img, R, V, vb, oy, 0, W, TOP, BOTTOM, 0, T, B);
    for (int ox0 = PIECE; ox0 < W - PIECE; ox0 += PIECE) row_tile(in, packed, out, img, R, V, vb, oy, ox0, W, TOP, BOTTOM, 1, T, B);
    row_tile(in, packed, out, img, R, V, vb, oy, W - PIECE, W, TOP, BOTTOM, 2, T, B);
}

// One block's weights over B images' whole plane, row by row.
FM_INLINE void row_image_block(
    const float *in, const float *block_weights, float *out, int img, int R, int V, int vb, const int W, const int T,
    const int B) {
    for (int oy = 0; oy < W; oy++) {
        if (oy == 0) row_pieces(in, block_weights, out, img, R, V, vb, oy, W, 1, 0, T, B);
        else if (oy == W - 1) row_pieces(in, block_weights, out, img, R, V, vb, oy, W, 0, 1, T, B);
        else row_pieces(in, block_weights, out, img, R, V, vb, oy, W, 0, 0, T, B);
    }
}

// The weight gradient on these planes: as weight_grad_blocks, one 6-pixel piece of dY at a time.
FM_INLINE void row_weight_grad_piece(
    v16 acc[2][9], const float *dyb, const float *x0, const float *x1, int img, int oy, int ox0,
    const int W, const int TOP, const int BOTTOM, const int COL) {
    v16 dyv[PIECE];
    FM_UNROLL for (int o = 0; o < PIECE; o++)
        dyv[o] = load16(dyb + ((long)img * W * W + oy * W + ox0 + o) * 16);
    FM_UNROLL for (int ci = 0; ci < 2; ci++) {
        const float *plane = ci ? x1 : x0;
        FM_UNROLL for (int d = -1; d <= 1; d++) {
            if ((TOP && d < 0) || (BOTTOM && d > 0)) continue;
            const float *row = plane + (oy + d) * W + ox0;
            FM_UNROLL for (int cx = -1; cx <= PIECE; cx++) {
                if ((COL == 0 && cx < 0) || (COL == 2 && cx >= PIECE)) continue;
                v16 s = splat(row[cx]);
                FM_UNROLL for (int o = 0; o < PIECE; o++) {
                    const int e = cx - o;
                    if (e < -1 || e > 1) continue;
                    acc[ci][(d + 1) * 3 + (e + 1)] += dyv[o] * s;
                }
            }
        }
    }
}

FM_INLINE void row_weight_grad_row(
    v16 acc[2][9], const float *dyb, const float *x0, const float *x1, int img, int oy,
    const int W, const int TOP, const int BOTTOM) {
    row_weight_grad_piece(acc, dyb, x0, x1, img, oy, 0, W, TOP, BOTTOM, 0);
    for (int ox0 = PIECE; ox0 < W - PIECE; ox0 += PIECE) row_weight_grad_piece(acc, dyb, x0, x1, img, oy, ox0, W, TOP, BOTTOM, 1);
    row_weight_grad_piece(acc, dyb, x0, x1, img, oy, W - PIECE, W, TOP, BOTTOM, 2);
}


// Stride 2 on planes of 12x12 and more (OW, the output width, a multiple of 6): the output
// rows again go in 6-pixel pieces. Output pixel (oy, ox) reads input rows 2oy-1..2oy+1 and
// columns 2ox-1..2ox+1, so with an even input width only the top row and the left piece meet
// the padding; the input gradient meets it only at the bottom row and the right piece.
FM_INLINE void s2_tile(
    const float *in, const float *packed, float *out, int img, int R, int V, int vb, int oy, int ox0,
    const int OW, const int TOP, const int LEFT, const int B) {
    const int IW = 2 * OW;
    v16 acc[4][PIECE];
    FM_UNROLL for (int b = 0; b < B; b++)
        FM_UNROLL for (int o = 0; o < PIECE; o++) acc[b][o] = (v16){0};
    const float *w = packed;  // this block's weights
    for (int r = 0; r < R; r++, w += BLOCK_WEIGHTS_PER_CHANNEL) {
        v16 wt[9];
        FM_UNROLL for (int t = 0; t < 9; t++) wt[t] = load16(w + t * 16);
        FM_UNROLL for (int b = 0; b < B; b++) {
            const float *plane = in + ((long)(img + b) * R + r) * IW * IW;
            FM_UNROLL for (int d = -1; d <= 1; d++) {
                if (TOP && d < 0) continue;
                const float *row = plane + (2 * oy + d) * IW + 2 * ox0;
                FM_UNROLL for (int cx = -1; cx < 2 * PIECE; cx++) {
                    if (LEFT && cx < 0) continue;
                    v16 s = splat(row[cx]);
                    FM_UNROLL for (int o = 0; o < PIECE; o++) {
                        const int kw = cx - 2 * o + 1;
                        if (kw >= 0 && kw < 3) acc[b][o] += wt[(d + 1) * 3 + kw] * s;
                    }
                }
            }
        }
    }
    FM_UNROLL for (int b = 0; b < B; b++) {
        float *dst = out + ((long)(img + b) * V + vb * 16) * OW * OW + oy * OW + ox0;
        FM_UNROLL for (int o = 0; o < PIECE; o++)
            for (int j = 0; j < 16; j++) dst[j * OW * OW + o] = acc[b][o][j];
    }
}

// The input gradient: dX row iy (of width 2 OW) gathers dY row iy/2 through the kernel's
// middle row when iy is even, rows (iy+1)/2 and (iy-1)/2 through its top and bottom rows when
// odd; dX column ix0 + o gathers dY columns ix0/2 + cx through kernel column o - 2cx + 1.
FM_INLINE void s2_grad_tile(
    const float *dy, const float *packed_t, float *dx, int img, int R, int V, int vb, int iy, int ix0,
    const int OW, const int ODD, const int BOTTOM, const int RIGHT, const int B) {
    const int IW = 2 * OW;
    v16 acc[4][PIECE];
    FM_UNROLL for (int b = 0; b < B; b++)
        FM_UNROLL for (int o = 0; o < PIECE; o++) acc[b][o] = (v16){0};
    const float *w = packed_t;  // this block's weights
    for (int r = 0; r < R; r++, w += BLOCK_WEIGHTS_PER_CHANNEL) {
        v16 wt[9];
        FM_UNROLL for (int t = 0; t < 9; t++) wt[t] = load16(w + t * 16);
        FM_UNROLL for (int b = 0; b < B; b++) {
            const float *plane = dy + ((long)(img + b) * R + r) * OW * OW;
            FM_UNROLL for (int kh = 0; kh < 3; kh++) {
                if ((kh == 1) == ODD || (BOTTOM && kh == 0)) continue;
                const float *row = plane + ((iy + 1 - kh) / 2) * OW + ix0 / 2;
                FM_UNROLL for (int cx = 0; cx <= PIECE / 2; cx++) {
                    if (RIGHT && cx == PIECE / 2) continue;
                    v16 s = splat(row[cx]);
                    FM_UNROLL for (int o = 0; o < PIECE; o++) {
                        const int kw = o - 2 * cx + 1;
                        if (kw >= 0 && kw < 3) acc[b][o] += wt[kh * 3 + kw] * s;
                    }
                }
            }
        }
    }
    FM_UNROLL for (int b = 0; b < B; b++) {
        float *dst = dx + ((long)(img + b) * V + vb * 16) * IW * IW + iy * IW + ix0;
        FM_UNROLL for (int o = 0; o < PIECE; o++)
            for (int j = 0; j < 16; j++) dst[j * IW * IW + o] = acc[b][o][j];
    }
}

FM_INLINE void s2_rows(
    const float *in, const float *packed, float *out, int img, int R, int V, int vb, const int OW, const int B) {
    for (int oy = 0; oy < OW; oy++)
        for (int ox0 = 0; ox0 < OW; ox0 += PIECE) {
            if (oy == 0 && ox0 == 0) s2_tile(in, packed, out, img, R, V, vb, oy, ox0, OW, 1, 1, B);
            else if (oy == 0) s2_tile(in, packed, out, img, R, V, vb, oy, ox0, OW, 1, 0, B);
            else if (ox0 == 0) s2_tile(in, packed, out, img, R, V, vb, oy, ox0, OW, 0, 1, B);
            else s2_tile(in, packed, out, img, R, V, vb, oy, ox0, OW, 0, 0, B);
        }
}

FM_INLINE void s2_grad_row(
    const float *dy, const float *packed_t, float *dx, int img, int R, int V, int vb, int iy,
    const int OW, const int ODD, const int BOTTOM, const int B) {
    for (int ix0 = 0; ix0 < 2 * OW - PIECE; ix0 += PIECE)
        s2_grad_tile(dy, packed_t, dx, img, R, V, vb, iy, ix0, OW, ODD, BOTTOM, 0, B);
    s2_grad_tile(dy, packed_t, dx, img, R, V, vb, iy, 2 * OW - PIECE, OW, ODD, BOTTOM, 1, B);
}

FM_INLINE void s2_grad_rows(
    const float *dy, const float *packed_t, float *dx, int img, int R, int V, int vb, const int OW, const int B) {
    for (int iy = 0; iy < 2 * OW - 1; iy += 2) {
        s2_grad_row(dy, packed_t, dx, img, R, V, vb, iy, OW, 0, 0, B);
        if (iy + 1 < 2 * OW - 1) s2_grad_row(dy, packed_t, dx, img, R, V, vb, iy + 1, OW, 1, 0, B);
    }
    s2_grad_row(dy, packed_t, dx, img, R, V, vb, 2 * OW - 1, OW, 1, 1, B);
}


// The weight gradient at stride 2: one 6-pixel piece of dY against the 3 x 13 input pixels it reads.
FM_INLINE void s2_weight_grad_piece(
    v16 acc[2][9], const float *dyb, const float *x0, const float *x1, int img, int oy, int ox0,
    const int OW, const int TOP, const int LEFT) {
    const int IW = 2 * OW;
    v16 dyv[PIECE];
    FM_UNROLL for (int o = 0; o < PIECE; o++)
        dyv[o] = load16(dyb + ((long)img * OW * OW + oy * OW + ox0 + o) * 16);
    FM_UNROLL for (int ci = 0; ci < 2; ci++) {
        const float *plane = ci ? x1 : x0;
        FM_UNROLL for (int d = -1; d <= 1; d++) {
            if (TOP && d < 0) continue;
            const float *row = plane + (2 * oy + d) * IW + 2 * ox0;
            FM_UNROLL for (int cx = -1; cx < 2 * PIECE; cx++) {
                if (LEFT && cx < 0) continue;
                v16 s = splat(row[cx]);
                FM_UNROLL for (int o = 0; o < PIECE; o++) {
                    const int kw = cx - 2 * o + 1;
                    if (kw >= 0 && kw < 3) acc[ci][(d + 1) * 3 + kw] += dyv[o] * s;
                }
            }
        }
    }
}

// The planes of 12x12 and more, stride S (OW the output width): B images through one block.
FM_INLINE void rows_image_block(
    const float *in, const float *block_weights, float *out, int img, int R, int V, int vb, const int OW,
    const int S, const int T, const int B) {
    if (S == 1) row_image_block(in, block_weights, out, img, R, V, vb, OW, T, B);
    else if (T) s2_grad_rows(in, block_weights, out, img, R, V, vb, OW, B);
    else s2_rows(in, block_weights, out, img, R, V, vb, OW, B);
}

// Images outermost, blocks inside, so a pair of images is read from memory once for every
// block (on 48x48 planes the whole batch's input is 38 MB, more than any cache). T selects the
// input gradient.
FM_INLINE void rows_blocks(
    const float *in, const float *packed, float *out, int n, int R, int V, int block_begin, int block_end,
    const int OW, const int S, const int T) {
    int img = 0;
    for (; img + 2 <= n; img += 2)
        for (int vb = block_begin; vb < block_end; vb++)
            rows_image_block(in, packed + (long)(vb - block_begin) * R * BLOCK_WEIGHTS_PER_CHANNEL, out, img, R, V, vb, OW, S, T, 2);
    for (; img < n; img++)
        for (int vb = block_begin; vb < block_end; vb++)
            rows_image_block(in, packed + (long)(vb - block_begin) * R * BLOCK_WEIGHTS_PER_CHANNEL, out, img, R, V, vb, OW, S, T, 1);
}

// On 48x48 planes (OUTER, FM_3X3_48_TO_48) images go outermost: one image's dY
// block (48 x 48 pixels x 16 channels: 147 KB) stays in L2 while every channel pair reads it,
// the sums go back to packed_grad between images, and x is read in its own layout
// [image][channel][pixel], which this order walks in sequence. With images innermost, each
// channel pair would stream the whole batch's dY block (9 MB at batch 64); on 24x24 and smaller
// planes, where a block is 2.4 MB or less, images innermost is as fast or faster.
FM_INLINE void row_weight_grad_blocks(
    const float *x, const float *dy_b, float *packed_grad, int n, int C, int c_begin, int c_end,
    int block_begin, int block_end, const int W, const int OUTER) {
    const int P = W * W;
    for (int ob = block_begin; ob < block_end; ob++) {
        const float *dyb = dy_b + (long)ob * n * P * 16;
        for (int pass = 0; pass < (OUTER ? n : 1); pass++)
            for (int c0 = c_begin; c0 < c_end; c0 += 2) {
                float *sums = packed_grad + ((long)ob * C + c0) * 144;
                v16 acc[2][9];
                FM_UNROLL for (int ci = 0; ci < 2; ci++)
                    FM_UNROLL for (int t = 0; t < 9; t++)
                        acc[ci][t] = pass == 0 ? (v16){0} : load16(sums + (ci * 9 + t) * 16);
                for (int img = OUTER ? pass : 0; img < (OUTER ? pass + 1 : n); img++) {
                    const float *x0 = OUTER ? x + ((long)img * C + c0) * P : x + ((long)c0 * n + img) * P;
                    const float *x1 = x0 + (OUTER ? P : (long)n * P);
                    for (int oy = 0; oy < W; oy++) {
                        if (oy == 0) row_weight_grad_row(acc, dyb, x0, x1, img, oy, W, 1, 0);
                        else if (oy == W - 1) row_weight_grad_row(acc, dyb, x0, x1, img, oy, W, 0, 1);
                        else row_weight_grad_row(acc, dyb, x0, x1, img, oy, W, 0, 0);
                    }
                }
                FM_UNROLL for (int ci = 0; ci < 2; ci++)
                    FM_UNROLL for (int t = 0; t < 9; t++)
                        store16(sums + (ci * 9 + t) * 16, acc[ci][t]);
            }
    }
}

FM_INLINE void s2_weight_grad_blocks(
    const float *x_t, const float *dy_b, float *packed_grad, int n, int C, int c_begin, int c_end,
    int block_begin, int block_end, const int OW) {
    const int IP = 4 * OW * OW;
    for (int ob = block_begin; ob < block_end; ob++) {
        const float *dyb = dy_b + (long)ob * n * OW * OW * 16;
        for (int c0 = c_begin; c0 < c_end; c0 += 2) {
            v16 acc[2][9];
            FM_UNROLL for (int ci = 0; ci < 2; ci++)
                FM_UNROLL for (int t = 0; t < 9; t++) acc[ci][t] = (v16){0};
            for (int img = 0; img < n; img++) {
                const float *x0 = x_t + ((long)c0 * n + img) * IP, *x1 = x0 + (long)n * IP;
                for (int oy = 0; oy < OW; oy++) {
                    if (oy == 0) s2_weight_grad_piece(acc, dyb, x0, x1, img, oy, 0, OW, 1, 1);
                    else s2_weight_grad_piece(acc, dyb, x0, x1, img, oy, 0, OW, 0, 1);
                    for (int ox0 = PIECE; ox0 < OW; ox0 += PIECE) {
                        if (oy == 0) s2_weight_grad_piece(acc, dyb, x0, x1, img, oy, ox0, OW, 1, 0);
                        else s2_weight_grad_piece(acc, dyb, x0, x1, img, oy, ox0, OW, 0, 0);
                    }
                }
            }
            FM_UNROLL for (int ci = 0; ci < 2; ci++)
                FM_UNROLL for (int t = 0; t < 9; t++)
                    store16(packed_grad + (((long)ob * C + c0 + ci) * 9 + t) * 16, acc[ci][t]);
        }
    }
}

// One copy of every kernel per instruction set: `FM_TARGET` is empty for the baseline copy. Each
// switch has a case per row of the geometry table, calling the row's kernel body with the
// arguments named below.
#define FORWARD_ARGS x, p, y, n, c, m, b0, b1
#define INPUT_GRAD_ARGS dy, p, dx, n, m, c, b0, b1
#define WEIGHT_GRAD_ARGS x, dy_b, pg, n, c, c0, c1, b0, b1
#define FM_FORWARD_CASE(ID, NAME, K, IN_W, OUT_W, S, FORWARD, INPUT_GRAD, WEIGHT_GRAD) \
    case ID: FORWARD; break;
#define FM_INPUT_GRAD_CASE(ID, NAME, K, IN_W, OUT_W, S, FORWARD, INPUT_GRAD, WEIGHT_GRAD) \
    case ID: INPUT_GRAD; break;
#define FM_WEIGHT_GRAD_CASE(ID, NAME, K, IN_W, OUT_W, S, FORWARD, INPUT_GRAD, WEIGHT_GRAD) \
    case ID: WEIGHT_GRAD; break;
#define FM_KERNELS(SUFFIX, FM_TARGET)                                                                            \
    FM_TARGET static void forward_##SUFFIX(int g, const float *x, const float *p, float *y, int n, int c, int m, \
                                           int b0, int b1) {                                                     \
        switch (g) { FM_DIRECT_GEOMETRIES(FM_FORWARD_CASE) }                                                     \
    }                                                                                                            \
    FM_TARGET static void input_grad_##SUFFIX(int g, const float *dy, const float *p, float *dx, int n, int c,   \
                                              int m, int b0, int b1) {                                           \
        switch (g) { FM_DIRECT_GEOMETRIES(FM_INPUT_GRAD_CASE) }                                                  \
    }                                                                                                            \
    FM_TARGET static void weight_grad_##SUFFIX(int g, const float *x, const float *dy_b, float *pg, int n,       \
                                               int c, int c0, int c1, int b0, int b1) {                          \
        switch (g) { FM_DIRECT_GEOMETRIES(FM_WEIGHT_GRAD_CASE) }                                                 \
    }

FM_BOTH_COPIES(FM_KERNELS)
void fm_direct_forward(fm_direct_call call, const float *x, const float *packed, float *y) {
    FM_PICK(forward)(call.geometry, x, packed, y, call.images, call.in_channels, call.out_channels, call.block_begin,
                     call.block_end);
}

void fm_direct_input_grad(fm_direct_call call, const float *dy, const float *packed_t, float *dx) {
    FM_PICK(input_grad)(call.geometry, dy, packed_t, dx, call.images, call.in_channels, call.out_channels,
                        call.block_begin, call.block_end);
}

void fm_direct_weight_grad(fm_direct_call call, int in_begin, int in_end, const float *x, const float *dy_b,
                           float *packed_grad) {
    FM_PICK(weight_grad)(call.geometry, x, dy_b, packed_grad, call.images, call.in_channels, in_begin, in_end,
                         call.block_begin, call.block_end);
}

// Packing moves each weight once, but the small planes pack a block of weights every call,
// so it is written as 16 x 16 transpositions in registers (a scalar gather of one weight at a
// time would cost a large share of the convolution itself).
// Untransposed (blocks of out channels): the block's 16 weight rows [16][in x taps] become
// [in x taps][16]. Transposed (blocks of in channels): for each out channel o, the 16 x taps
// weights [16][taps] of the block's channels (contiguous) become [taps][16].
FM_INLINE void pack_blocks(const float *w, float *packed, int out_ch, int in_ch,
                                                              const int TAPS, int transposed, int b0, int b1) {
    const long L = (long)in_ch * TAPS;  // floats in one out channel's weights
    for (int blk = b0; blk < b1; blk++) {
        float *dst = packed + (long)(blk - b0) * 16 * (transposed ? (long)out_ch * TAPS : L);
        if (!transposed) {
            const float *rows = w + (long)blk * 16 * L;
            for (long k = 0; k < L; k += 16) {
                v16 r[16];
                FM_UNROLL for (int j = 0; j < 16; j++) r[j] = load16(rows + j * L + k);
                transpose16(r);
                FM_UNROLL for (int i = 0; i < 16; i++) store16(dst + (k + i) * 16, r[i]);
            }
            continue;
        }
        for (int o = 0; o < out_ch; o++) {
            const float *src = w + ((long)o * in_ch + blk * 16) * TAPS;
            float *out = dst + (long)o * TAPS * 16;
            // Rows of 16 floats from each channel's `TAPS`: the last channel's row reads past the
            // block, which is past the array only for the last block of the last out channel.
            if (TAPS == 1 || (o == out_ch - 1 && blk == in_ch / 16 - 1)) {
                for (int t = 0; t < TAPS; t++)
                    for (int j = 0; j < 16; j++) out[t * 16 + j] = src[j * TAPS + t];
                continue;
            }
            v16 r[16];
            FM_UNROLL for (int j = 0; j < 16; j++) r[j] = load16(src + j * TAPS);
            transpose16(r);
            FM_UNROLL for (int t = 0; t < TAPS; t++) store16(out + t * 16, r[t]);
        }
    }
}

// The inverse of the untransposed packing: [in x taps][16] back to the block's 16 weight rows.
FM_INLINE void unpack_blocks(const float *packed, float *w, int in_ch, const int TAPS,
                                                                int b0, int b1) {
    const long L = (long)in_ch * TAPS;
    for (int blk = b0; blk < b1; blk++) {
        const float *src = packed + (long)blk * 16 * L;
        float *rows = w + (long)blk * 16 * L;
        for (long k = 0; k < L; k += 16) {
            v16 r[16];
            FM_UNROLL for (int i = 0; i < 16; i++) r[i] = load16(src + (k + i) * 16);
            transpose16(r);
            FM_UNROLL for (int j = 0; j < 16; j++) store16(rows + j * L + k, r[j]);
        }
    }
}

// Both packings per instruction set, like the kernels.
#define FM_PACKING(SUFFIX, FM_TARGET)                                                                            \
    FM_TARGET static void pack_##SUFFIX(const float *w, float *p, int m, int c, int taps, int tr, int b0, int b1) { \
        if (taps == 9) pack_blocks(w, p, m, c, 9, tr, b0, b1);                                                     \
        else pack_blocks(w, p, m, c, 1, tr, b0, b1);                                                               \
    }                                                                                                              \
    FM_TARGET static void unpack_##SUFFIX(const float *p, float *w, int c, int taps, int b0, int b1) {             \
        if (taps == 9) unpack_blocks(p, w, c, 9, b0, b1);                                                          \
        else unpack_blocks(p, w, c, 1, b0, b1);                                                                    \
    }
FM_BOTH_COPIES(FM_PACKING)

// The weight gradient's operands for images n0..<n1, in the orders its loops walk.
// dy [n][out][plane] -> dy_b[ob][n][plane][16]: 16 channels x 16 pixels at a time through a
// register transpose, not one float stored per 64-byte line. x [n][c][in plane] -> x_t[c][n][in plane] where x_t
// is given, by non-temporal stores where `stream` (in plane a multiple of 16, x_t 64-byte
// aligned): a copy larger than the last-level cache is read back from memory anyway, and plain
// stores would first read every line they fill.
FM_INLINE void weight_grad_operands(
    const float *dy, float *dy_b, const float *x, float *x_t, int n, int out_ch, int in_ch, int plane, int in_plane,
    int n0, int n1, int stream) {
    for (int img = n0; img < n1; img++) {
        for (int ob = 0; ob < out_ch / 16; ob++) {
            const float *src = dy + ((long)img * out_ch + ob * 16) * plane;
            float *dst = dy_b + ((long)ob * n + img) * plane * 16;
            int p = 0;
            for (; p + 16 <= plane; p += 16) {
                v16 r[16];
                FM_UNROLL for (int i = 0; i < 16; i++) r[i] = load16(src + (long)i * plane + p);
                transpose16(r);
                FM_UNROLL for (int j = 0; j < 16; j++) store16(dst + (long)(p + j) * 16, r[j]);
            }
            if (p < plane) {  // the last plane - p < 16 pixels (all 9 of a 3x3 plane): one more transpose
                const float *end = dy + (long)n * out_ch * plane;
                v16 r[16];
                FM_UNROLL for (int i = 0; i < 16; i++) {
                    const float *row = src + (long)i * plane + p;
                    if (row + 16 <= end) {
                        r[i] = load16(row);  // the lanes past the row are never stored
                    } else {
                        float tail[16] = {0};
                        for (int q = 0; q < plane - p; q++) tail[q] = row[q];
                        r[i] = load16(tail);
                    }
                }
                transpose16(r);
                for (int j = 0; j < plane - p; j++) store16(dst + (long)(p + j) * 16, r[j]);
            }
        }
        if (!x_t) continue;
        for (int ch = 0; ch < in_ch; ch++) {
            const float *src = x + ((long)img * in_ch + ch) * in_plane;
            float *dst = x_t + ((long)ch * n + img) * in_plane;
            if (stream)
                for (int p = 0; p < in_plane; p += 16) __builtin_nontemporal_store(load16(src + p), (v16 *)(dst + p));
            else
                __builtin_memcpy(dst, src, (unsigned long)in_plane * sizeof(float));
        }
    }
}

#define FM_WEIGHT_GRAD_OPERANDS(SUFFIX, FM_TARGET)                                                              \
    FM_TARGET static void weight_grad_operands_##SUFFIX(const float *dy, float *dy_b, const float *x, float *x_t, \
                                                        int n, int m, int c, int plane, int in_plane, int n0,    \
                                                        int n1, int stream) {                                    \
        weight_grad_operands(dy, dy_b, x, x_t, n, m, c, plane, in_plane, n0, n1, stream);                        \
    }
FM_BOTH_COPIES(FM_WEIGHT_GRAD_OPERANDS)

void fm_direct_weight_grad_operands(fm_direct_call call, int image_begin, int image_end, int stream, const float *dy,
                                    float *dy_b, const float *x, float *x_t) {
    const int g = call.geometry, plane = out_widths[g] * out_widths[g], in_plane = in_widths[g] * in_widths[g];
    stream = stream && x_t && in_plane % 16 == 0;
    FM_PICK(weight_grad_operands)(dy, dy_b, x, x_t, call.images, call.out_channels, call.in_channels, plane, in_plane,
                                  image_begin, image_end, stream);
#if defined(__x86_64__)
    if (stream) __builtin_ia32_sfence();  // non-temporal stores are weakly ordered: done before x_t is read
#endif
}

void fm_direct_pack(fm_direct_call call, int transposed, const float *w, float *packed) {
    FM_PICK(pack)(w, packed, call.out_channels, call.in_channels, fm_direct_taps(call.geometry), transposed,
                  call.block_begin, call.block_end);
}

void fm_direct_unpack(fm_direct_call call, const float *packed, float *w) {
    FM_PICK(unpack)(packed, w, call.in_channels, fm_direct_taps(call.geometry), call.block_begin, call.block_end);
}
