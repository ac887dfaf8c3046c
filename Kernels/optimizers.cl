// Fused optimizer updates: each element's parameter, gradient and state are read and written
// once. The formulas are torch.optim's, term for term as the CPU backend computes them;
// `gradient_scale` multiplies the gradient first (gradient-norm clipping).

__kernel void sgd_step(__global float* p, __global const float* g, const int n,
                       const float lr, const float weight_decay, const float gradient_scale) {
    const int i = get_global_id(0);
    if (i < n) p[i] -= lr * (gradient_scale * g[i] + weight_decay * p[i]);
}

__kernel void sgd_momentum_step(__global float* p, __global const float* g, __global float* m, const int n,
                                const float lr, const float weight_decay, const float gradient_scale,
                                const float momentum, const float keep, const int first, const int nesterov) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float d = gradient_scale * g[i] + weight_decay * p[i];
    const float buf = first ? d : momentum * m[i] + keep * d;
    m[i] = buf;
    p[i] -= lr * (nesterov ? d + momentum * buf : buf);
}

// step_size = lr / (1 - beta1^t) and root = sqrt(1 - beta2^t) come from the host in double.
__kernel void adam_step(__global float* p, __global const float* g, __global float* m, __global float* v, const int n,
                        const float beta1, const float beta2, const float epsilon, const float gradient_scale,
                        const float coupled_decay, const float shrink, const float step_size, const float root) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float d = gradient_scale * g[i] + coupled_decay * p[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * d;
    const float vi = beta2 * v[i] + (1.0f - beta2) * d * d;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * shrink - step_size * mi / (sqrt(vi) / root + epsilon);
}
