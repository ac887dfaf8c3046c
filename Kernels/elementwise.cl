// Memory-bound maps, one work-item per element. NaN passes through ReLU (as on the CPU).

__kernel void relu_forward(__global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) {
        const float v = x[i];
        y[i] = v < 0.0f ? 0.0f : v;
    }
}

// gradInput may be gradOutput itself: each element is read before it is written.
__kernel void relu_backward(__global const float* dy, __global const float* y, __global float* dx, const int n) {
    const int i = get_global_id(0);
    if (i < n) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

__kernel void add(__global const float* a, __global const float* b, __global float* out, const int n) {
    const int i = get_global_id(0);
    if (i < n) out[i] = a[i] + b[i];
}

// y = alpha * x + beta * y in place.
__kernel void axpby(const float alpha, __global const float* x, const float beta, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = alpha * x[i] + beta * y[i];
}

// x[n, c, ...] += bias[c] in place.
__kernel void add_bias(__global float* x, __global const float* bias, const int channels, const int plane, const int n) {
    const int i = get_global_id(0);
    if (i < n) x[i] += bias[(i / plane) % channels];
}

// One work-group per channel: gradBias[c] = sum of dy[n, c, ...].
__kernel void bias_gradient(__global const float* dy, __global float* db,
                            const int batch, const int channels, const int plane) {
    __local float scratch[FM_GROUP];
    const int ch = get_group_id(0);
    const int count = batch * plane;
    float s = 0.0f;
    for (int t = get_local_id(0); t < count; t += FM_GROUP) {
        const int i = t / plane;
        s += dy[(i * channels + ch) * plane + (t - i * plane)];
    }
    s = fm_group_sum(s, scratch);
    if (get_local_id(0) == 0) db[ch] = s;
}
