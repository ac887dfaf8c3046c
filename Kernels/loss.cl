// What both losses share: 1 / (the total weight of the rows' true classes), their mean's
// denominator; a label outside 0..<C makes it NaN, so the trainer's non-finite guard reports it.
float fm_inverse_label_weight(__global const int* labels, __global const float* weights, const int has_weights,
                              const int rows, const int classes, __local float* scratch) {
    float d = 0.0f;
    for (int i = get_local_id(0); i < rows; i += FM_GROUP) {
        const int label = labels[i];
        d += (label < 0 || label >= classes) ? NAN : (has_weights ? weights[label] : 1.0f);
    }
    const float denominator = fm_group_sum(d, scratch);
    return denominator > 0.0f ? 1.0f / denominator : 0.0f;
}

// log(sum_c exp(row[c])), shifted by the row's maximum so no exp overflows.
float fm_log_sum_exp(__global const float* row, const int classes) {
    float top = row[0];
    for (int c = 1; c < classes; c++) top = fmax(top, row[c]);
    float exp_sum = 0.0f;
    for (int c = 0; c < classes; c++) exp_sum += exp(row[c] - top);
    return top + log(exp_sum);
}

// Softmax cross-entropy as PyTorch's cross_entropy(weight:, label_smoothing:) with mean
// reduction, in one work-group: row i's target is q_c = ((1 - s) [c == y_i] + s / C) * w_c and
// the sum of row losses is divided by the total weight of the rows' true classes.
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
    const float inverse = fm_inverse_label_weight(labels, weights, has_weights, rows, classes, scratch);
    float total = 0.0f;
    for (int i = lid; i < rows; i += FM_GROUP) {
        __global const float* row = logits + i * classes;
        const int label = clamp(labels[i], 0, classes - 1);
        const float log_sum = fm_log_sum_exp(row, classes);
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

// Focal loss (Lin et al. 2017): row i contributes -w_y (1 - p_y)^gamma log p_y, divided by the
// total weight of the rows' true classes. dL/dz_j = w [gamma (1-p)^(gamma-1) p log p - (1-p)^gamma]
// (delta_jy - p_j) / total weight. One work-group, as the cross-entropy kernel.
__kernel void softmax_focal_loss(__global const float* logits, __global const int* labels,
                                 __global const float* weights, const int has_weights,
                                 const int rows, const int classes, const float gamma,
                                 __global float* loss, __global float* grad, const int has_grad) {
    __local float scratch[FM_GROUP];
    const int lid = get_local_id(0);
    const float inverse = fm_inverse_label_weight(labels, weights, has_weights, rows, classes, scratch);
    float total = 0.0f;
    for (int i = lid; i < rows; i += FM_GROUP) {
        __global const float* row = logits + i * classes;
        const int label = clamp(labels[i], 0, classes - 1);
        const float w = has_weights ? weights[label] : 1.0f;
        const float log_sum = fm_log_sum_exp(row, classes);
        const float log_p = row[label] - log_sum, p = exp(log_p), rest = 1.0f - p;
        const float modulation = gamma == 0.0f ? 1.0f : pow(rest, gamma);
        total += -w * modulation * log_p;
        if (has_grad) {
            const float slope = (gamma == 0.0f || rest <= 0.0f) ? 0.0f : gamma * pow(rest, gamma - 1.0f) * p * log_p;
            const float k = w * (slope - modulation) * inverse;
            for (int c = 0; c < classes; c++) {
                const float pc = exp(row[c] - log_sum);
                grad[i * classes + c] = k * ((c == label ? 1.0f : 0.0f) - pc);
            }
        }
    }
    total = fm_group_sum(total, scratch);
    if (lid == 0) loss[0] = total * inverse;
}
