// Inverted dropout with Philox-4x32-10, the same function as Sources/Device/Philox.swift:
// counter = (group, 0, step low, step high), key = seed; word w of group g decides element
// 4g + w, kept when its top 24 bits / 2^24 >= p. Forward and backward are the same map.

uint4 fm_philox(uint4 c, uint2 key) {
    for (int round = 0; round < 10; round++) {
        const uint hi0 = mul_hi(0xD2511F53u, c.x), lo0 = 0xD2511F53u * c.x;
        const uint hi1 = mul_hi(0xCD9E8D57u, c.z), lo1 = 0xCD9E8D57u * c.z;
        c = (uint4)(hi1 ^ c.y ^ key.x, lo1, hi0 ^ c.w ^ key.y, lo0);
        key.x += 0x9E3779B9u;
        key.y += 0xBB67AE85u;
    }
    return c;
}

// One work-item per group of four elements; dst may be src itself.
__kernel void dropout_apply(__global const float* src, __global float* dst, const int n,
                            const float p, const float scale,
                            const uint seed_lo, const uint seed_hi, const uint step_lo, const uint step_hi) {
    const int group = get_global_id(0);
    const int first = group * 4;
    if (first >= n) return;
    const uint4 w = fm_philox((uint4)((uint)group, 0u, step_lo, step_hi), (uint2)(seed_lo, seed_hi));
    const uint words[4] = {w.x, w.y, w.z, w.w};
    for (int lane = 0; lane < 4 && first + lane < n; lane++) {
        const float u = (float)(words[lane] >> 8) * (1.0f / 16777216.0f);
        dst[first + lane] = u >= p ? src[first + lane] * scale : 0.0f;
    }
}
