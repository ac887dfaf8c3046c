// Convolution as GEMM over a chunk of `cn` images starting at image n0. The column matrix is
// [C*k*k, cn*P] (P = output pixels per image), so one GEMM covers the whole chunk; the two
// layout kernels move between that channel-major [O, cn*P] layout and NCHW.

__kernel void im2col(__global const float* x, __global float* cols,
                     const int C, const int H, const int W, const int k, const int stride, const int pad,
                     const int OH, const int OW, const int n0, const int cn) {
    const int idx = get_global_id(0);
    const int P = OH * OW, width = cn * P, area = k * k;
    if (idx >= C * area * width) return;
    const int r = idx / width, j = idx - r * width;
    const int img = j / P, pix = j - img * P;
    const int oh = pix / OW, ow = pix - oh * OW;
    const int c = r / area, t = r - c * area;
    const int kh = t / k, kw = t - kh * k;
    const int h = oh * stride - pad + kh, w = ow * stride - pad + kw;
    float v = 0.0f;
    if (h >= 0 && h < H && w >= 0 && w < W) v = x[(((n0 + img) * C + c) * H + h) * W + w];
    cols[idx] = v;
}

// The adjoint of im2col: each input element gathers every column entry it was copied to, so
// no two work-items write the same address (no atomics) and the sum order is fixed.
__kernel void col2im(__global const float* cols, __global float* dx,
                     const int C, const int H, const int W, const int k, const int stride, const int pad,
                     const int OH, const int OW, const int n0, const int cn) {
    const int idx = get_global_id(0);
    if (idx >= cn * C * H * W) return;
    const int w = idx % W, h = (idx / W) % H, c = (idx / (H * W)) % C, img = idx / (C * H * W);
    const int P = OH * OW, width = cn * P;
    float s = 0.0f;
    for (int kh = 0; kh < k; kh++) {
        const int top = h + pad - kh;
        if (top < 0 || top % stride != 0 || top / stride >= OH) continue;
        const int oh = top / stride;
        for (int kw = 0; kw < k; kw++) {
            const int left = w + pad - kw;
            if (left < 0 || left % stride != 0 || left / stride >= OW) continue;
            s += cols[((c * k + kh) * k + kw) * width + img * P + oh * OW + left / stride];
        }
    }
    dx[n0 * C * H * W + idx] = s;
}

// y[n0 + img, o, pix] = columns[o, img * P + pix] (+ bias[o]).
__kernel void columns_to_images(__global const float* columns, __global float* y, __global const float* bias,
                                const int has_bias, const int O, const int P, const int n0, const int cn) {
    const int idx = get_global_id(0);
    if (idx >= cn * O * P) return;
    const int pix = idx % P, o = (idx / P) % O, img = idx / (O * P);
    float v = columns[o * cn * P + img * P + pix];
    if (has_bias) v += bias[o];
    y[n0 * O * P + idx] = v;
}

// columns[o, img * P + pix] = dy[n0 + img, o, pix].
__kernel void images_to_columns(__global const float* dy, __global float* columns,
                                const int O, const int P, const int n0, const int cn) {
    const int idx = get_global_id(0);
    if (idx >= O * cn * P) return;
    const int o = idx / (cn * P), j = idx - o * cn * P;
    const int img = j / P, pix = j - img * P;
    columns[idx] = dy[((n0 + img) * O + o) * P + pix];
}
