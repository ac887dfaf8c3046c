// Convolution as implicit GEMM: the products of im2col + GEMM, with the column matrix never
// written. Each work-group computes a TM x TN tile of the product, staging TK-deep slices of
// both operands in local memory; the slice of the column matrix is gathered from the images
// (zero in the padding) as it is staged. Each work-item keeps an RM x RN block of the tile in
// registers, rows and columns strided across the group so that its loads are coalesced.
//
// The three products, C = A B with r the reduction index (kk = k * k taps, P = OH * OW):
//   forward       y  [n][o][p]   = sum over r = (c, tap)     of w[o][r]       * x columns[r][(n, p)]
//   input grad    dx [n][c][h w] = sum over r = (o, tap)     of w[o][c][tap]  * dy columns[r][(n, h, w)]
//   weight grad   dw [o][(c,tap)] = sum over r = (n, p)      of dy[n][o][p]   * x columns[(c, tap)][(n, p)]
// The weight gradient's reduction is long and its output small (32 x 9 for a first layer), so
// it is split into `slices` ranges of r, one partial product each, summed by sum_slices.
//
// Every kernel runs in work-groups of FM_GROUP = 256 work-items, one group per tile (and
// slice), launched as a 1-D range of groups: TM / RM x TN / RN must be 256.

#define FM_TK 16
#define FM_FORWARD 0
#define FM_INPUT_GRAD 1
#define FM_WEIGHT_GRAD 2

typedef struct {
    int N, C, H, W, O, k, stride, pad, OH, OW;
} fm_conv_shape;

// x columns[r][j]: r = (c, kh, kw), j = (n, oh, ow); zero where the tap falls in the padding.
inline float fm_x_column(__global const float* x, const fm_conv_shape s, const int r, const int j) {
    const int kk = s.k * s.k, P = s.OH * s.OW;
    const int c = r / kk, t = r - c * kk, kh = t / s.k, kw = t - kh * s.k;
    const int n = j / P, p = j - n * P, oh = p / s.OW, ow = p - oh * s.OW;
    const int h = oh * s.stride - s.pad + kh, w = ow * s.stride - s.pad + kw;
    return (h >= 0 && h < s.H && w >= 0 && w < s.W) ? x[((n * s.C + c) * s.H + h) * s.W + w] : 0.0f;
}

// dy columns[r][j]: r = (o, kh, kw), j = (n, h, w): the output pixel that read input pixel
// (h, w) through tap (kh, kw), or zero where no output pixel did.
inline float fm_dy_column(__global const float* dy, const fm_conv_shape s, const int r, const int j) {
    const int kk = s.k * s.k, HW = s.H * s.W;
    const int o = r / kk, t = r - o * kk, kh = t / s.k, kw = t - kh * s.k;
    const int n = j / HW, q = j - n * HW, h = q / s.W, w = q - h * s.W;
    const int top = h + s.pad - kh, left = w + s.pad - kw;
    if (top < 0 || left < 0 || top % s.stride != 0 || left % s.stride != 0) return 0.0f;
    const int oh = top / s.stride, ow = left / s.stride;
    if (oh >= s.OH || ow >= s.OW) return 0.0f;
    return dy[((n * s.O + o) * s.OH + oh) * s.OW + ow];
}

inline float fm_a(const int OP, __global const float* a, const fm_conv_shape s, const int m, const int r) {
    const int kk = s.k * s.k, P = s.OH * s.OW;
    if (OP == FM_FORWARD) return a[m * s.C * kk + r];
    if (OP == FM_INPUT_GRAD) {
        const int o = r / kk, t = r - o * kk;
        return a[(o * s.C + m) * kk + t];
    }
    const int n = r / P, p = r - n * P;  // FM_WEIGHT_GRAD: a is dy
    return a[(n * s.O + m) * P + p];
}

inline float fm_b(const int OP, __global const float* b, const fm_conv_shape s, const int r, const int j) {
    if (OP == FM_FORWARD) return fm_x_column(b, s, r, j);
    if (OP == FM_INPUT_GRAD) return fm_dy_column(b, s, r, j);
    return fm_x_column(b, s, j, r);  // FM_WEIGHT_GRAD: b is x, its column index the reduction
}

// One tile: rows tile_m * TM.., columns tile_n * TN.., reduction r0..<r1; stored in place
// (forward: plus the bias; weight gradient: into partial product `slice`).
inline void fm_implicit_tile(const int OP, const int TM, const int TN, const int RM, const int RN,
                             __global const float* a, __global const float* b, __global const float* bias,
                             const int has_bias, __global float* out, const fm_conv_shape s, const int M,
                             const int NC, const int r0, const int r1, const int tile_m, const int tile_n,
                             const int slice, __local float* As, __local float* Bs) {
    const int lid = get_local_id(0), TX = TN / RN;
    const int tx = lid % TX, ty = lid / TX;
    const int m0 = tile_m * TM, n0 = tile_n * TN;
    float acc[4][4];
    for (int i = 0; i < RM; i++)
        for (int j = 0; j < RN; j++) acc[i][j] = 0.0f;
    for (int k0 = r0; k0 < r1; k0 += FM_TK) {
        // A's slice: consecutive work-items along r, where each of its rows is contiguous.
        for (int e = lid; e < TM * FM_TK; e += FM_GROUP) {
            const int m = e / FM_TK, kk = e - m * FM_TK, r = k0 + kk;
            As[kk * TM + m] = (m0 + m < M && r < r1) ? fm_a(OP, a, s, m0 + m, r) : 0.0f;
        }
        // B's slice: along the columns (pixels) for the forward pass and input gradient, along
        // r (pixels again) for the weight gradient.
        for (int e = lid; e < TN * FM_TK; e += FM_GROUP) {
            int j, kk;
            if (OP == FM_WEIGHT_GRAD) {
                j = e / FM_TK;
                kk = e - j * FM_TK;
            } else {
                kk = e / TN;
                j = e - kk * TN;
            }
            const int r = k0 + kk;
            Bs[kk * TN + j] = (n0 + j < NC && r < r1) ? fm_b(OP, b, s, r, n0 + j) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < FM_TK; kk++) {
            float av[4], bv[4];
            for (int i = 0; i < RM; i++) av[i] = As[kk * TM + ty + i * (TM / RM)];
            for (int j = 0; j < RN; j++) bv[j] = Bs[kk * TN + tx + j * TX];
            for (int i = 0; i < RM; i++)
                for (int j = 0; j < RN; j++) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < RM; i++) {
        const int m = m0 + ty + i * (TM / RM);
        if (m >= M) continue;
        for (int j = 0; j < RN; j++) {
            const int col = n0 + tx + j * TX;
            if (col >= NC) continue;
            if (OP == FM_FORWARD) {
                const int P = s.OH * s.OW, n = col / P, p = col - n * P;
                out[(n * s.O + m) * P + p] = acc[i][j] + (has_bias ? bias[m] : 0.0f);
            } else if (OP == FM_INPUT_GRAD) {
                const int HW = s.H * s.W, n = col / HW, q = col - n * HW;
                out[(n * s.C + m) * HW + q] = acc[i][j];
            } else {
                out[(slice * M + m) * NC + col] = acc[i][j];
            }
        }
    }
}

#define FM_SHAPE {N, C, H, W, O, k, stride, pad, OH, OW}

// The kernels of each pass differ only in the tile edge T (64 or 32) and the block per
// work-item R (4 or 2); their bodies are these, with the parameters named as below.
#define FM_FORWARD_BODY(T, R)                                                                              \
    __local float As[FM_TK * T], Bs[FM_TK * T];                                                            \
    const fm_conv_shape s = FM_SHAPE;                                                                      \
    const int NC = N * OH * OW, tiles_n = (NC + T - 1) / T, g = get_group_id(0);                          \
    fm_implicit_tile(FM_FORWARD, T, T, R, R, w, x, bias, has_bias, y, s, O, NC, 0, C * k * k, g / tiles_n, \
                     g % tiles_n, 0, As, Bs);

#define FM_INPUT_GRAD_BODY(T, R)                                                                          \
    __local float As[FM_TK * T], Bs[FM_TK * T];                                                           \
    const fm_conv_shape s = FM_SHAPE;                                                                     \
    const int NC = N * H * W, tiles_n = (NC + T - 1) / T, g = get_group_id(0);                           \
    fm_implicit_tile(FM_INPUT_GRAD, T, T, R, R, w, dy, w, 0, dx, s, C, NC, 0, O * k * k, g / tiles_n,     \
                     g % tiles_n, 0, As, Bs);

#define FM_WEIGHT_GRAD_BODY(T, R)                                                                         \
    __local float As[FM_TK * T], Bs[FM_TK * T];                                                           \
    const fm_conv_shape s = FM_SHAPE;                                                                     \
    const int NC = C * k * k, tiles_n = (NC + T - 1) / T, tiles = tiles_n * ((O + T - 1) / T);           \
    const int g = get_group_id(0), slice = g / tiles, tile = g - slice * tiles, L = N * OH * OW;          \
    const int r0 = slice * slice_length, r1 = slice == slices - 1 ? L : r0 + slice_length;                \
    fm_implicit_tile(FM_WEIGHT_GRAD, T, T, R, R, dy, x, dy, 0, partials, s, O, NC, r0, r1, tile / tiles_n, \
                     tile % tiles_n, slice, As, Bs);

// y = conv(x, w) + bias, tiles of 64 x 64 (4 x 4 per work-item): the wide layers.
__kernel void implicit_forward_64(
    __global const float* x, __global const float* w, __global const float* bias, const int has_bias,
    __global float* y, const int N, const int C, const int H, const int W, const int O, const int k,
    const int stride, const int pad, const int OH, const int OW) {
    FM_FORWARD_BODY(64, 4)
}

// The same in tiles of 32 x 32 (2 x 2 per work-item): more groups where layers are small.
__kernel void implicit_forward_32(
    __global const float* x, __global const float* w, __global const float* bias, const int has_bias,
    __global float* y, const int N, const int C, const int H, const int W, const int O, const int k,
    const int stride, const int pad, const int OH, const int OW) {
    FM_FORWARD_BODY(32, 2)
}

// dx = conv^T(dy, w), tiles of 64 x 64.
__kernel void implicit_input_grad_64(
    __global const float* dy, __global const float* w, __global float* dx, const int N, const int C, const int H,
    const int W, const int O, const int k, const int stride, const int pad, const int OH, const int OW) {
    FM_INPUT_GRAD_BODY(64, 4)
}

// dx in tiles of 32 x 32.
__kernel void implicit_input_grad_32(
    __global const float* dy, __global const float* w, __global float* dx, const int N, const int C, const int H,
    const int W, const int O, const int k, const int stride, const int pad, const int OH, const int OW) {
    FM_INPUT_GRAD_BODY(32, 2)
}

// partials[slice][o][(c, tap)] over slice `slice` of the N * OH * OW pixels (each
// `slice_length` long, the last to the end), tiles of 64 x 64.
__kernel void implicit_weight_grad_64(
    __global const float* x, __global const float* dy, __global float* partials, const int slices,
    const int slice_length, const int N, const int C, const int H, const int W, const int O, const int k,
    const int stride, const int pad, const int OH, const int OW) {
    FM_WEIGHT_GRAD_BODY(64, 4)
}

// The weight gradient's partials in tiles of 32 x 32.
__kernel void implicit_weight_grad_32(
    __global const float* x, __global const float* dy, __global float* partials, const int slices,
    const int slice_length, const int N, const int C, const int H, const int W, const int O, const int k,
    const int stride, const int pad, const int OH, const int OW) {
    FM_WEIGHT_GRAD_BODY(32, 2)
}
