// Batch normalisation over N, H, W per channel. Statistics are work-group reductions (one group
// per channel) that stay on the device; the normalisation itself is an elementwise pass.

// Batch mean and biased variance (two passes: the centred second pass keeps the variance
// accurate when the mean is large), the saved mean and 1/sqrt(var + eps) for the backward pass,
// and the running statistics, which move toward the *unbiased* variance as PyTorch's do.
__kernel void bn_statistics(__global const float* x, const int batch, const int channels, const int plane,
                            const float momentum, const float epsilon,
                            __global float* running_mean, __global float* running_var,
                            __global float* saved_mean, __global float* saved_inv_std) {
    __local float scratch[FM_GROUP];
    const int ch = get_group_id(0);
    const int count = batch * plane;
    float s = 0.0f;
    for (int t = get_local_id(0); t < count; t += FM_GROUP) {
        const int i = t / plane;
        s += x[(i * channels + ch) * plane + (t - i * plane)];
    }
    const float mean = fm_group_sum(s, scratch) / (float)count;
    float q = 0.0f;
    for (int t = get_local_id(0); t < count; t += FM_GROUP) {
        const int i = t / plane;
        const float d = x[(i * channels + ch) * plane + (t - i * plane)] - mean;
        q += d * d;
    }
    const float variance = fm_group_sum(q, scratch) / (float)count;
    if (get_local_id(0) == 0) {
        saved_mean[ch] = mean;
        saved_inv_std[ch] = 1.0f / sqrt(variance + epsilon);
        const float unbiased = count > 1 ? variance * (float)count / (float)(count - 1) : variance;
        running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
        running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * unbiased;
    }
}

// The epilogue every normalisation pass ends in: the residual sum and the ReLU that close a
// ResNet block, or the ReLU after a convolution, applied here instead of in passes of their own.
// `residual` may be `y` itself; it is not read unless has_residual.
inline float bn_epilogue(float v, __global const float* residual, const int i, const int has_residual, const int relu) {
    if (has_residual) v += residual[i];
    return relu ? fmax(v, 0.0f) : v;
}

__kernel void bn_apply(__global const float* x, __global float* y,
                       __global const float* gamma, __global const float* beta,
                       __global const float* mean, __global const float* inv_std,
                       const int channels, const int plane, const int n,
                       __global const float* residual, const int has_residual, const int relu) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const int ch = (i / plane) % channels;
    const float scale = gamma[ch] * inv_std[ch];
    y[i] = bn_epilogue(x[i] * scale + (beta[ch] - mean[ch] * scale), residual, i, has_residual, relu);
}

__kernel void bn_inference(__global const float* x, __global float* y,
                           __global const float* gamma, __global const float* beta,
                           __global const float* running_mean, __global const float* running_var,
                           const float epsilon, const int channels, const int plane, const int n,
                           __global const float* residual, const int has_residual, const int relu) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const int ch = (i / plane) % channels;
    const float scale = gamma[ch] / sqrt(running_var[ch] + epsilon);
    y[i] = bn_epilogue(x[i] * scale + (beta[ch] - running_mean[ch] * scale), residual, i, has_residual, relu);
}

// gradBeta = sum(dy); gradGamma = sum(dy * xhat) = invStd * sum(dy * (x - mean)). After a
// fused ReLU (relu != 0, y its output) dy is first zeroed in place where y <= 0: the ReLU's
// backward pass, whose result the apply pass and a fused residual's branch then read.
__kernel void bn_backward_reduce(__global float* dy, __global const float* x,
                                 __global const float* mean, __global const float* inv_std,
                                 const int batch, const int channels, const int plane,
                                 __global float* grad_gamma, __global float* grad_beta,
                                 __global const float* y, const int relu) {
    __local float scratch[FM_GROUP];
    const int ch = get_group_id(0);
    const int count = batch * plane;
    const float m = mean[ch];
    float sum_dy = 0.0f, sum_centred = 0.0f;
    for (int t = get_local_id(0); t < count; t += FM_GROUP) {
        const int i = t / plane;
        const int at = (i * channels + ch) * plane + (t - i * plane);
        float g = dy[at];
        if (relu && y[at] <= 0.0f) {
            g = 0.0f;
            dy[at] = 0.0f;
        }
        sum_dy += g;
        sum_centred += g * (x[at] - m);
    }
    sum_dy = fm_group_sum(sum_dy, scratch);
    sum_centred = fm_group_sum(sum_centred, scratch);
    if (get_local_id(0) == 0) {
        grad_gamma[ch] = sum_centred * inv_std[ch];
        grad_beta[ch] = sum_dy;
    }
}

// dx = gamma * invStd * (dy - mean(dy) - xhat * mean(dy * xhat)); dx may be dy itself.
__kernel void bn_backward_apply(__global const float* dy, __global const float* x,
                                __global const float* gamma, __global const float* mean, __global const float* inv_std,
                                __global const float* grad_gamma, __global const float* grad_beta,
                                __global float* dx, const int channels, const int plane, const float count, const int n) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const int ch = (i / plane) % channels;
    const float s = inv_std[ch];
    const float xhat = (x[i] - mean[ch]) * s;
    dx[i] = gamma[ch] * s * (dy[i] - grad_beta[ch] / count - xhat * (grad_gamma[ch] / count));
}
