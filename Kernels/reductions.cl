// Reductions for metrics.

// indices[r] = the first column holding the row's maximum.
__kernel void argmax_rows(__global const float* x, __global int* indices, const int rows, const int columns) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    __global const float* row = x + r * columns;
    int best = 0;
    for (int c = 1; c < columns; c++) if (row[c] > row[best]) best = c;
    indices[r] = best;
}

// result[0] = sum of x, in one work-group (fixed order: the same total every run).
__kernel void sum_all(__global const float* x, __global float* result, const int n) {
    __local float scratch[FM_GROUP];
    float s = 0.0f;
    for (int i = get_local_id(0); i < n; i += FM_GROUP) s += x[i];
    s = fm_group_sum(s, scratch);
    if (get_local_id(0) == 0) result[0] = s;
}

// Partial sums of squares: work-group g of the launch writes partials[first + g]; the groups
// stride through x together.
__kernel void squared_norm_partial(__global const float* x, const int n, __global float* partials, const int first) {
    __local float scratch[FM_GROUP];
    float s = 0.0f;
    for (int i = get_global_id(0); i < n; i += get_global_size(0)) s += x[i] * x[i];
    s = fm_group_sum(s, scratch);
    if (get_local_id(0) == 0) partials[first + get_group_id(0)] = s;
}

// result[r] = sum of row r of partials [rows, columns].
__kernel void sum_rows(__global const float* partials, __global float* result, const int rows, const int columns) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    float s = 0.0f;
    for (int c = 0; c < columns; c++) s += partials[r * columns + c];
    result[r] = s;
}

// out[i] = beta * out[i] + the sum over s of slices[s * n + i]: the last step of a product
// split along its inner dimension (the convolution's weight gradient).
__kernel void sum_slices(__global const float* slices, __global float* out, const int n, const int count,
                         const float beta) {
    const int i = get_global_id(0);
    if (i >= n) return;
    float s = beta == 0.0f ? 0.0f : beta * out[i];
    for (int k = 0; k < count; k++) s += slices[k * n + i];
    out[i] = s;
}
