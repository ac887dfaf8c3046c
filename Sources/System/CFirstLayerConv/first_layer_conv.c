// clang-format off
// (loops led by FM_UNROLL: see .clang-format)
#include "first_layer_conv.h"
#include "kernel_vectors.h"

// One-channel first layers: 3x3, padding 1, stride 1 on 48x48 (MyCNN's conv1, the small
// stem). With one input channel an output sums only 9 products, so the other kernels' layout
// (16 out channels to a vector) would spend more on writing each output float apart than on
// the products, and im2col + BLAS cannot keep busy with K = 9. Here vectors run along a row:
// a 48-pixel row is 3 vectors. Each plane is first copied three times, shifted by one column
// each and with a zero border ([kw][50 rows][48]), so every tap is an aligned vector load.
enum { W = 48, ROWS = 50, SHIFTED = ROWS * W, PADDED = 3 * SHIFTED, ROW_VECTORS = 3, CO = 8, DX_ROWS = 4 };

// Rows in vectors: a plane row is 3 vectors, and the copies for kernel columns 0 and 2 are
// the same row moved one lane right or left, a zero coming in at the border.
FM_INLINE void pad_planes(const float *x, float *padded, int n) {
    const v16 zero = {0};
    for (int img = 0; img < n; img++) {
        const float *plane = x + (long)img * W * W;
        float *dst = padded + (long)img * PADDED;
        for (int r = 0; r < ROWS; r++) {
            v16 row[ROW_VECTORS];
            FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++)
                row[v] = r >= 1 && r <= W ? load16(plane + (r - 1) * W + 16 * v) : zero;
#define FM_RIGHT 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30
#define FM_LEFT 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
            store16(dst + r * W, __builtin_shufflevector(zero, row[0], FM_RIGHT));
            store16(dst + r * W + 16, __builtin_shufflevector(row[0], row[1], FM_RIGHT));
            store16(dst + r * W + 32, __builtin_shufflevector(row[1], row[2], FM_RIGHT));
            FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++)
                store16(dst + SHIFTED + r * W + 16 * v, row[v]);
            store16(dst + 2 * SHIFTED + r * W, __builtin_shufflevector(row[0], row[1], FM_LEFT));
            store16(dst + 2 * SHIFTED + r * W + 16, __builtin_shufflevector(row[1], row[2], FM_LEFT));
            store16(dst + 2 * SHIFTED + r * W + 32, __builtin_shufflevector(row[2], zero, FM_LEFT));
#undef FM_RIGHT
#undef FM_LEFT
        }
    }
}

// The vector of row r (of the zero-bordered plane), columns 16v.., seen through kernel column kw.
FM_INLINE v16 tap_row(const float *padded, int kw, int r, int v) {
    return load16(padded + kw * SHIFTED + r * W + 16 * v);
}

// y[img][co][row] for CO channels: 9 taps x 3 vectors x CO channels of multiply-adds per row
// from 9 x 3 loads and 9 x CO weight broadcasts. The bias starts the sums: a pass of its own
// over the output (18.9 MB for MyCNN's conv1 at batch 64) cost more than the products.
FM_INLINE void forward_image(const float *padded, const float *w, const float *bias,
                                                                float *y, int out_ch) {
    for (int c0 = 0; c0 < out_ch; c0 += CO)
        for (int oy = 0; oy < W; oy++) {
            v16 acc[CO][ROW_VECTORS];
            FM_UNROLL for (int c = 0; c < CO; c++)
                FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++)
                    acc[c][v] = bias ? splat(bias[c0 + c]) : (v16){0};
            FM_UNROLL for (int t = 0; t < 9; t++) {
                v16 xv[ROW_VECTORS];
                FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++)
                    xv[v] = tap_row(padded, t % 3, oy + t / 3, v);
                FM_UNROLL for (int c = 0; c < CO; c++) {
                    const v16 wt = splat(w[(c0 + c) * 9 + t]);
                    FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++) acc[c][v] += wt * xv[v];
                }
            }
            FM_UNROLL for (int c = 0; c < CO; c++)
                FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++)
                    store16(y + ((long)(c0 + c) * W + oy) * W + 16 * v, acc[c][v]);
        }
}

// Row r of a plane as 3 vectors, zero above and below the plane.
FM_INLINE void plane_row(const float *plane, int r, v16 row[ROW_VECTORS]) {
    FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++)
        row[v] = r >= 0 && r < W ? load16(plane + r * W + 16 * v) : (v16){0};
}

// The same row seen through kernel column kw (0, 1, 2): moved one lane right, not at all, or
// one lane left, a zero coming in at the border. Vector v of the result.
FM_INLINE v16 shifted(const v16 row[ROW_VECTORS], const int kw, const int v) {
    const v16 zero = {0};
    if (kw == 1) return row[v];
    if (kw == 0) return __builtin_shufflevector(v == 0 ? zero : row[v - 1], row[v], 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
                                                25, 26, 27, 28, 29, 30);
    return __builtin_shufflevector(row[v], v == ROW_VECTORS - 1 ? zero : row[v + 1], 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                   13, 14, 15, 16);
}

// dx[img][iy][ix] sums over out channels w[kh][kw] * dy[iy + 1 - kh][ix + 1 - kw], which is
// dY row iy + 1 - kh seen through kernel column 2 - kw. DX_ROWS rows of dx at a time stay in
// registers across every out channel and share the DX_ROWS + 2 rows of dY they read.
FM_INLINE void input_grad_image(const float *dy, const float *w, float *dx, int out_ch) {
    for (int iy0 = 0; iy0 < W; iy0 += DX_ROWS) {
        v16 acc[DX_ROWS][ROW_VECTORS];
        FM_UNROLL for (int r = 0; r < DX_ROWS; r++)
            FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++) acc[r][v] = (v16){0};
        for (int co = 0; co < out_ch; co++) {
            const float *plane = dy + (long)co * W * W;
            FM_UNROLL for (int pr = 0; pr < DX_ROWS + 2; pr++) {
                v16 row[ROW_VECTORS];
                plane_row(plane, iy0 + pr - 1, row);
                FM_UNROLL for (int kw = 0; kw < 3; kw++)
                    FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++) {
                        const v16 s = shifted(row, 2 - kw, v);
                        FM_UNROLL for (int r = 0; r < DX_ROWS; r++) {
                            const int kh = r + 2 - pr;
                            if (kh >= 0 && kh < 3) acc[r][v] += splat(w[co * 9 + kh * 3 + kw]) * s;
                        }
                    }
            }
        }
        FM_UNROLL for (int r = 0; r < DX_ROWS; r++)
            FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++)
                store16(dx + (iy0 + r) * W + 16 * v, acc[r][v]);
    }
}

// One image's share of dw[co][tap] and db[co] for two channels: 20 vectors of partial sums
// (9 taps and the bias each), kept in `sums` between images and added across lanes at the end.
FM_INLINE void weight_grad_pair(const float *p, const float *d0, float *sums, int first) {
    v16 acc[2][10];
    FM_UNROLL for (int c = 0; c < 2; c++)
        FM_UNROLL for (int t = 0; t < 10; t++)
            acc[c][t] = first ? (v16){0} : load16(sums + c * FM_FIRST_SUMS + t * 16);
    const float *d1 = d0 + W * W;
    for (int oy = 0; oy < W; oy++)
        FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++) {
            const v16 g0 = load16(d0 + oy * W + 16 * v), g1 = load16(d1 + oy * W + 16 * v);
            acc[0][9] += g0;
            acc[1][9] += g1;
            FM_UNROLL for (int t = 0; t < 9; t++) {
                const v16 xv = tap_row(p, t % 3, oy + t / 3, v);
                acc[0][t] += g0 * xv;
                acc[1][t] += g1 * xv;
            }
        }
    FM_UNROLL for (int c = 0; c < 2; c++)
        FM_UNROLL for (int t = 0; t < 10; t++) store16(sums + c * FM_FIRST_SUMS + t * 16, acc[c][t]);
}

// Images outermost: one image's bordered copy (28 KB) stays in L1 while every pair of channels
// reads it. (Pairs outermost, each pair streamed the batch's 1.8 MB of copies and ran at 30%.)
FM_INLINE void weight_grad_channels(const float *padded, const float *dy, float *dw,
                                                                       float *db, float *sums, int n, int out_ch, int c0,
                                                                       int c1) {
    for (int img = 0; img < n; img++)
        for (int co = c0; co < c1; co += 2)
            weight_grad_pair(padded + (long)img * PADDED, dy + ((long)img * out_ch + co) * W * W,
                             sums + co * FM_FIRST_SUMS, img == 0);
    add_lanes(sums, 9, dw, db, c0, c1);
}

#define FM_FIRST_KERNELS(SUFFIX, FM_TARGET)                                                                        \
    FM_TARGET static void first_forward_##SUFFIX(const float *x, const float *w, const float *b, float *y, int n,   \
                                                 int m, float *s) {                                                  \
        for (int img = 0; img < n; img++) {                                                                          \
            pad_planes(x + (long)img * W * W, s, 1);                                                                 \
            forward_image(s, w, b, y + (long)img * m * W * W, m);                                                    \
        }                                                                                                            \
    }                                                                                                                \
    FM_TARGET static void first_input_grad_##SUFFIX(const float *dy, const float *w, float *dx, int n, int m) {     \
        for (int img = 0; img < n; img++) input_grad_image(dy + (long)img * m * W * W, w, dx + (long)img * W * W, m);   \
    }                                                                                                                \
    FM_TARGET static void first_pad_##SUFFIX(const float *x, float *p, int n) { pad_planes(x, p, n); }              \
    FM_TARGET static void first_weight_grad_##SUFFIX(const float *p, const float *dy, float *dw, float *db,          \
                                                     float *sums, int n, int m, int c0, int c1) {                    \
        weight_grad_channels(p, dy, dw, db, sums, n, m, c0, c1);                                                     \
    }

FM_BOTH_COPIES(FM_FIRST_KERNELS)

void fm_first_forward(const float *x, const float *w, const float *bias, float *y, int n, int out_ch, float *scratch) {
    FM_PICK(first_forward)(x, w, bias, y, n, out_ch, scratch);
}

void fm_first_input_grad(const float *dy, const float *w, float *dx, int n, int out_ch) {
    FM_PICK(first_input_grad)(dy, w, dx, n, out_ch);
}

void fm_first_weight_grad(const float *padded, const float *dy, float *dw, float *db, float *sums, int n, int out_ch,
                          int co_begin, int co_end) {
    FM_PICK(first_weight_grad)(padded, dy, dw, db, sums, n, out_ch, co_begin, co_end);
}

void fm_first_pad(const float *x, float *padded, int n) {
    FM_PICK(first_pad)(x, padded, n);
}
