// clang-format off
// (loops led by FM_UNROLL: see .clang-format)
#include "stem_conv.h"
#include "kernel_vectors.h"

// The imagenet stem: one channel, 7x7, stride 2, padding 3, 48x48 -> 24x24. Like the 3x3 first
// layers (first_layer_conv.c), vectors run along output rows, here two rows at a time (2 x 24
// = 48 pixels = 3 vectors, contiguous in the output plane). Output pixel (oy, ox) reads padded
// input pixel (2oy + kh, 2ox + kw), so each image is first rearranged as
// taps[kw][parity][i][ox] = padded[2i + parity][2ox + kw] (7 x 2 x 27 x 24 floats): tap (kh, kw)
// of output rows oy, oy + 1 is then the 48 floats from taps[kw][kh % 2][oy + kh / 2], one
// plain load per vector (im2col + BLAS, with K = 49, stays far from peak).
enum { W = 48, OW = 24, K = 7, PAD = 3, HALF_ROWS = 27, PAR_SLAB = HALF_ROWS * OW, KW_SLAB = 2 * PAR_SLAB,
       TAPS = K * KW_SLAB, ROW_VECTORS = 3, CO = 8, PAIRS = OW / 2 };

// taps for one image (see above); zero where the 7x7 window hangs over the border.
FM_INLINE void arrange(const float *x, float *taps) {
    for (int r = 0; r < 2 * HALF_ROWS; r++) {
        const int xr = r - PAD, par = r & 1, i = r >> 1;
        // The row's even and odd columns, two zeros either side: column 2j + kw - 3 is
        // even[j + (kw - 3) / 2] for odd kw and odd[j + (kw - 4) / 2] for even kw.
        float even[OW + 4] = {0}, odd[OW + 4] = {0};
        if (xr >= 0 && xr < W)
            for (int j = 0; j < OW; j++) {
                even[2 + j] = x[xr * W + 2 * j];
                odd[2 + j] = x[xr * W + 2 * j + 1];
            }
        FM_UNROLL for (int kw = 0; kw < K; kw++) {
            const float *src = kw & 1 ? even + 2 + (kw - 3) / 2 : odd + 2 + (kw - 4) / 2;
            float *dst = taps + kw * KW_SLAB + par * PAR_SLAB + i * OW;
            for (int ox = 0; ox < OW; ox++) dst[ox] = src[ox];
        }
    }
}

// The 48 floats of tap (kh, kw) for output rows oy, oy + 1 (oy even), vector v.
FM_INLINE v16 tap_rows(const float *taps, int kh, int kw, int oy, int v) {
    return load16(taps + kw * KW_SLAB + (kh & 1) * PAR_SLAB + (oy + kh / 2) * OW + 16 * v);
}

FM_INLINE void forward_image(const float *taps, const float *w, const float *bias,
                                                                float *y, int out_ch) {
    for (int c0 = 0; c0 < out_ch; c0 += CO)
        for (int oy = 0; oy < OW; oy += 2) {
            v16 acc[CO][ROW_VECTORS];
            FM_UNROLL for (int c = 0; c < CO; c++)
                FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++)
                    acc[c][v] = bias ? splat(bias[c0 + c]) : (v16){0};
            for (int kh = 0; kh < K; kh++)
                FM_UNROLL for (int kw = 0; kw < K; kw++) {
                    v16 xv[ROW_VECTORS];
                    FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++) xv[v] = tap_rows(taps, kh, kw, oy, v);
                    FM_UNROLL for (int c = 0; c < CO; c++) {
                        const v16 wt = splat(w[(c0 + c) * K * K + kh * K + kw]);
                        FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++) acc[c][v] += wt * xv[v];
                    }
                }
            FM_UNROLL for (int c = 0; c < CO; c++)
                FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++)
                    store16(y + (long)(c0 + c) * OW * OW + oy * OW + 16 * v, acc[c][v]);
        }
}

// dx of one image: the adjoint of the forward. Each tap's sums over out channels go to a
// `taps`-shaped buffer (7 kw x 3 vectors in registers per kernel row and output row pair),
// which the adjoint of `arrange` then adds into dx.
FM_INLINE void input_grad_image(const float *dy, const float *w, float *grads, float *dx,
                                                                   int out_ch) {
    for (int i = 0; i < TAPS; i++) grads[i] = 0;
    for (int oy = 0; oy < OW; oy += 2)
        for (int kh = 0; kh < K; kh++) {
            v16 acc[K][ROW_VECTORS];
            FM_UNROLL for (int kw = 0; kw < K; kw++)
                FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++) acc[kw][v] = (v16){0};
            for (int co = 0; co < out_ch; co++) {
                v16 g[ROW_VECTORS];
                FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++)
                    g[v] = load16(dy + (long)co * OW * OW + oy * OW + 16 * v);
                FM_UNROLL for (int kw = 0; kw < K; kw++) {
                    const v16 wt = splat(w[co * K * K + kh * K + kw]);
                    FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++) acc[kw][v] += wt * g[v];
                }
            }
            FM_UNROLL for (int kw = 0; kw < K; kw++)
                FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++) {
                    float *at = grads + kw * KW_SLAB + (kh & 1) * PAR_SLAB + (oy + kh / 2) * OW + 16 * v;
                    store16(at, load16(at) + acc[kw][v]);
                }
        }
    // The adjoint of `arrange`: input column xc gets tap kw's sum at ox = (xc + 3 - kw) / 2, so
    // even columns 2j sum kw = 1, 3, 5 at ox = j + 1, j, j - 1 and odd ones kw = 0, 2, 4, 6 at
    // ox = j + 2, j + 1, j, j - 1: shifted adds of whole rows, which vectorise (a scalar loop
    // over the taps of each pixel took as long as the multiply-adds).
    for (int xr = 0; xr < W; xr++) {
        const int r = xr + PAD, par = r & 1, i = r >> 1;
        const float *g[K];
        FM_UNROLL for (int kw = 0; kw < K; kw++) g[kw] = grads + kw * KW_SLAB + par * PAR_SLAB + i * OW;
        float even[OW], odd[OW];
        for (int j = 0; j < OW; j++) {
            even[j] = g[3][j];
            odd[j] = g[4][j];
        }
        for (int j = 0; j + 1 < OW; j++) {
            even[j] += g[1][j + 1];
            odd[j] += g[2][j + 1];
        }
        for (int j = 0; j + 2 < OW; j++) odd[j] += g[0][j + 2];
        for (int j = 1; j < OW; j++) {
            even[j] += g[5][j - 1];
            odd[j] += g[6][j - 1];
        }
        for (int j = 0; j < OW; j++) {
            dx[xr * W + 2 * j] = even[j];
            dx[xr * W + 2 * j + 1] = odd[j];
        }
    }
}

// One image's share of dw[co][49] and db[co] for two channels, kernel row by kernel row: 14
// vectors of partial sums (16 with the bias's), kept in `sums` between rows and images.
FM_INLINE void weight_grad_pair(const float *taps, const float *d0, float *sums, int first) {
    const float *d1 = d0 + OW * OW;
    for (int kh = 0; kh < K; kh++) {
        v16 acc[2][K + 1];
        FM_UNROLL for (int c = 0; c < 2; c++)
            FM_UNROLL for (int kw = 0; kw <= K; kw++) {
                const int slot = kw < K ? kh * K + kw : K * K;
                acc[c][kw] = first || (kw == K && kh > 0) ? (v16){0} : load16(sums + (c * FM_STEM_SUMS_PER_CHANNEL) + slot * 16);
            }
        for (int oy = 0; oy < OW; oy += 2)
            FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++) {
                const v16 g0 = load16(d0 + oy * OW + 16 * v), g1 = load16(d1 + oy * OW + 16 * v);
                if (kh == 0) {
                    acc[0][K] += g0;
                    acc[1][K] += g1;
                }
                FM_UNROLL for (int kw = 0; kw < K; kw++) {
                    const v16 xv = tap_rows(taps, kh, kw, oy, v);
                    acc[0][kw] += g0 * xv;
                    acc[1][kw] += g1 * xv;
                }
            }
        FM_UNROLL for (int c = 0; c < 2; c++)
            FM_UNROLL for (int kw = 0; kw <= K; kw++) {
                if (kw == K && kh > 0) continue;
                const int slot = kw < K ? kh * K + kw : K * K;
                store16(sums + c * FM_STEM_SUMS_PER_CHANNEL + slot * 16, acc[c][kw]);
            }
    }
}

// The same for four channels at once (28 accumulators: each tap load feeds 4 multiply-adds, not
// 2), with the bias's sums in a pass of their own over the four dY planes, which are in L1 by
// then.
FM_INLINE void weight_grad_quad(const float *taps, const float *d0, float *sums, int first) {
    enum { Q = 4 };
    for (int kh = 0; kh < K; kh++) {
        v16 acc[Q][K];
        FM_UNROLL for (int c = 0; c < Q; c++)
            FM_UNROLL for (int kw = 0; kw < K; kw++)
                acc[c][kw] = first ? (v16){0} : load16(sums + c * FM_STEM_SUMS_PER_CHANNEL + (kh * K + kw) * 16);
        for (int oy = 0; oy < OW; oy += 2)
            FM_UNROLL for (int v = 0; v < ROW_VECTORS; v++) {
                v16 g[Q];
                FM_UNROLL for (int c = 0; c < Q; c++) g[c] = load16(d0 + c * OW * OW + oy * OW + 16 * v);
                FM_UNROLL for (int kw = 0; kw < K; kw++) {
                    const v16 xv = tap_rows(taps, kh, kw, oy, v);
                    FM_UNROLL for (int c = 0; c < Q; c++) acc[c][kw] += g[c] * xv;
                }
            }
        FM_UNROLL for (int c = 0; c < Q; c++)
            FM_UNROLL for (int kw = 0; kw < K; kw++)
                store16(sums + c * FM_STEM_SUMS_PER_CHANNEL + (kh * K + kw) * 16, acc[c][kw]);
    }
    FM_UNROLL for (int c = 0; c < Q; c++) {
        float *slot = sums + c * FM_STEM_SUMS_PER_CHANNEL + K * K * 16;
        v16 b = first ? (v16){0} : load16(slot);
        for (int i = 0; i < OW * OW; i += 16) b += load16(d0 + c * OW * OW + i);
        store16(slot, b);
    }
}

FM_INLINE void weight_grad_channels(const float *taps, const float *dy, float *dw,
                                                                       float *db, float *sums, int n, int out_ch, int c0,
                                                                       int c1) {
    for (int img = 0; img < n; img++) {
        int co = c0;
        for (; co + 4 <= c1; co += 4)
            weight_grad_quad(taps + (long)img * TAPS, dy + ((long)img * out_ch + co) * OW * OW,
                             sums + co * FM_STEM_SUMS_PER_CHANNEL, img == 0);
        for (; co < c1; co += 2)
            weight_grad_pair(taps + (long)img * TAPS, dy + ((long)img * out_ch + co) * OW * OW,
                             sums + co * FM_STEM_SUMS_PER_CHANNEL, img == 0);
    }
    add_lanes(sums, K * K, dw, db, c0, c1);
}

#define FM_STEM_KERNELS(SUFFIX, FM_TARGET)                                                                         \
    FM_TARGET static void stem_arrange_##SUFFIX(const float *x, float *taps, int n) {                               \
        for (int img = 0; img < n; img++) arrange(x + (long)img * W * W, taps + (long)img * TAPS);                  \
    }                                                                                                               \
    FM_TARGET static void stem_forward_##SUFFIX(const float *x, const float *w, const float *b, float *y, int n,    \
                                                int m, float *s) {                                                  \
        for (int img = 0; img < n; img++) {                                                                         \
            arrange(x + (long)img * W * W, s);                                                                      \
            forward_image(s, w, b, y + (long)img * m * OW * OW, m);                                                 \
        }                                                                                                           \
    }                                                                                                               \
    FM_TARGET static void stem_input_grad_##SUFFIX(const float *dy, const float *w, float *dx, int n, int m,        \
                                                   float *s) {                                                      \
        for (int img = 0; img < n; img++)                                                                           \
            input_grad_image(dy + (long)img * m * OW * OW, w, s, dx + (long)img * W * W, m);                        \
    }                                                                                                               \
    FM_TARGET static void stem_weight_grad_##SUFFIX(const float *t, const float *dy, float *dw, float *db,          \
                                                    float *sums, int n, int m, int c0, int c1) {                    \
        weight_grad_channels(t, dy, dw, db, sums, n, m, c0, c1);                                                    \
    }

FM_BOTH_COPIES(FM_STEM_KERNELS)

void fm_stem_arrange(const float *x, float *taps, int n) {
    FM_PICK(stem_arrange)(x, taps, n);
}

void fm_stem_forward(const float *x, const float *w, const float *bias, float *y, int n, int out_ch, float *scratch) {
    FM_PICK(stem_forward)(x, w, bias, y, n, out_ch, scratch);
}

void fm_stem_input_grad(const float *dy, const float *w, float *dx, int n, int out_ch, float *scratch) {
    FM_PICK(stem_input_grad)(dy, w, dx, n, out_ch, scratch);
}

void fm_stem_weight_grad(const float *taps, const float *dy, float *dw, float *db, float *sums, int n, int out_ch,
                         int co_begin, int co_end) {
    FM_PICK(stem_weight_grad)(taps, dy, dw, db, sums, n, out_ch, co_begin, co_end);
}
