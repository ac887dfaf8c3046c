// Softmax cross-entropy as PyTorch's cross_entropy(weight:, label_smoothing:) with mean
// reduction, in one work-group: row i's target is q_c = ((1 - s) [c == y_i] + s / C) * w_c and
// the sum of row losses is divided by the total weight of the rows' true classes.
// A label outside 0..<C makes the loss NaN, so the trainer's non-finite guard reports it.
__kernel void softmax_cross_entropy(__global const float* logits, __global const int* labels,
                                    __global const float* weights, const int has_weights,
                                    const int rows, const int classes, const float smoothing,
                                    __global float* loss, __global float* grad, const int has_grad) {
    __local float scratch[FM_GROUP];
    const int lid = get_local_id(0);
    const float smooth = smoothing / (float)classes;
    float sum_weights = (float)classes;
    if (has_weights) {
        sum_weights = 0.0f;
        for (int c = 0; c < classes; c++) sum_weights += weights[c];
    }
    float d = 0.0f;
    for (int i = lid; i < rows; i += FM_GROUP) {
        const int label = labels[i];
        d += (label < 0 || label >= classes) ? NAN : (has_weights ? weights[label] : 1.0f);
    }
    const float denominator = fm_group_sum(d, scratch);
    const float inverse = denominator > 0.0f ? 1.0f / denominator : 0.0f;
    float total = 0.0f;
    for (int i = lid; i < rows; i += FM_GROUP) {
        __global const float* row = logits + i * classes;
        const int label = clamp(labels[i], 0, classes - 1);
        float top = row[0];
        for (int c = 1; c < classes; c++) top = fmax(top, row[c]);
        float exp_sum = 0.0f;
        for (int c = 0; c < classes; c++) exp_sum += exp(row[c] - top);
        const float log_sum = top + log(exp_sum);
        const float label_weight = has_weights ? weights[label] : 1.0f;
        const float q_sum = (1.0f - smoothing) * label_weight + smooth * sum_weights;
        for (int c = 0; c < classes; c++) {
            const float q = ((c == label ? 1.0f - smoothing : 0.0f) + smooth) * (has_weights ? weights[c] : 1.0f);
            total += q * (log_sum - row[c]);
            if (has_grad) grad[i * classes + c] = (q_sum * exp(row[c] - log_sum) - q) * inverse;
        }
    }
    total = fm_group_sum(total, scratch);
    if (lid == 0) loss[0] = total * inverse;
}
