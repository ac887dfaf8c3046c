// Max pooling records the winner's position h * W + w inside its plane (as PyTorch); ties go to
// the first position in scan order and a NaN wins, so it propagates instead of hiding.

__kernel void maxpool_forward(__global const float* x, __global float* y, __global int* indices,
                              const int H, const int W, const int OH, const int OW,
                              const int k, const int stride, const int pad, const int n) {
    const int idx = get_global_id(0);
    if (idx >= n) return;
    const int ox = idx % OW, oy = (idx / OW) % OH, plane = idx / (OH * OW);
    const int y0 = max(oy * stride - pad, 0), y1 = min(oy * stride - pad + k, H);
    const int x0 = max(ox * stride - pad, 0), x1 = min(ox * stride - pad + k, W);
    __global const float* src = x + plane * H * W;
    float best = -INFINITY;
    int at = y0 * W + x0;
    for (int iy = y0; iy < y1; iy++) {
        for (int ix = x0; ix < x1; ix++) {
            const float v = src[iy * W + ix];
            if (v > best || isnan(v)) {
                best = v;
                at = iy * W + ix;
            }
        }
    }
    y[idx] = best;
    indices[idx] = at;
}

// Each input element gathers the gradients of the windows it won, in output order: the same
// sums, in the same order, as scattering output by output.
__kernel void maxpool_backward(__global const float* dy, __global const int* indices, __global float* dx,
                               const int H, const int W, const int OH, const int OW,
                               const int k, const int stride, const int pad, const int n) {
    const int idx = get_global_id(0);
    if (idx >= n) return;
    const int w = idx % W, h = (idx / W) % H, plane = idx / (H * W);
    const int low_y = h + pad - k + 1, low_x = w + pad - k + 1;
    const int oy0 = low_y <= 0 ? 0 : (low_y + stride - 1) / stride;
    const int ox0 = low_x <= 0 ? 0 : (low_x + stride - 1) / stride;
    const int oy1 = min((h + pad) / stride, OH - 1), ox1 = min((w + pad) / stride, OW - 1);
    const int position = h * W + w;
    float s = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++) {
        for (int ox = ox0; ox <= ox1; ox++) {
            const int o = (plane * OH + oy) * OW + ox;
            if (indices[o] == position) s += dy[o];
        }
    }
    dx[idx] = s;
}

// [N, C, H, W] -> [N, C]: one work-item per plane.
__kernel void global_avg_pool_forward(__global const float* x, __global float* y, const int plane, const int n) {
    const int i = get_global_id(0);
    if (i >= n) return;
    float s = 0.0f;
    for (int j = 0; j < plane; j++) s += x[i * plane + j];
    y[i] = s * (1.0f / (float)plane);
}

__kernel void global_avg_pool_backward(__global const float* dy, __global float* dx, const int plane, const int n) {
    const int i = get_global_id(0);
    if (i < n) dx[i] = dy[i / plane] * (1.0f / (float)plane);
}
