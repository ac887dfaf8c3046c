// Shared helpers. The files of this folder are compiled as one program, in name order, with
// FM_GROUP (the work-group size of every reduction kernel) defined by the host.

// Sums one float per work-item over the work-group; every work-item gets the total.
// `scratch` holds FM_GROUP floats. Tree order is fixed, so results are reproducible run to run.
float fm_group_sum(float value, __local float* scratch) {
    const int lid = get_local_id(0);
    scratch[lid] = value;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int span = FM_GROUP / 2; span > 0; span >>= 1) {
        if (lid < span) scratch[lid] += scratch[lid + span];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);  // scratch may be reused right after
    return total;
}
