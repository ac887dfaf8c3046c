// Winograd F(2x2, 3x3) (Lavin and Gray, 2016) for 3x3 convolutions of stride 1 and padding 1:
// each 2x2 block of output pixels comes from the 4x4 input patch around it with 16
// multiplications per pair of channels instead of 36. Three passes around 16 GEMMs, one per
// position xi of the transformed 4x4 tile:
//   winograd_weights  U[xi][o][c] = (G g G^T)[xi], g the 3x3 kernel from channel c to o
//   winograd_inputs   V[xi][c][p] = (B^T d B)[xi], d channel c's 4x4 patch around tile p
//   (host)            M[xi] = U[xi] V[xi], one strided-batched CLBlast GEMM
//   winograd_outputs  the 2x2 block of tile p in channel o = A^T M[.][o][p] A (+ bias)
// A chunk of images is transformed at a time (tiles p numbered image by image). The input
// gradient of such a layer is the same convolution of dY, with the kernels turned by 180
// degrees and the channels swapped (flip = 1).

// O x C kernels of the convolution computed (flip: w holds the forward layer's [C][O] kernels).
__kernel void winograd_weights(__global const float* w, __global float* u, const int O, const int C, const int flip) {
    const int idx = get_global_id(0);
    if (idx >= O * C) return;
    const int o = idx / C, c = idx - o * C;
    float g[9];
    for (int t = 0; t < 9; t++) g[t] = flip ? w[(c * O + o) * 9 + 8 - t] : w[(o * C + c) * 9 + t];
    // G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]: rows first (Gg, 4x3), then columns.
    float r[12];
    for (int j = 0; j < 3; j++) {
        r[j] = g[j];
        r[3 + j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
        r[6 + j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
        r[9 + j] = g[6 + j];
    }
    const int plane = O * C;
    for (int i = 0; i < 4; i++) {
        const float a = r[3 * i], b = r[3 * i + 1], e = r[3 * i + 2];
        u[(4 * i + 0) * plane + idx] = a;
        u[(4 * i + 1) * plane + idx] = 0.5f * (a + b + e);
        u[(4 * i + 2) * plane + idx] = 0.5f * (a - b + e);
        u[(4 * i + 3) * plane + idx] = e;
    }
}

// Tile p of a chunk (numbered image by image, TH x TW tiles each): its image, row and column.
inline void winograd_tile(const int p, const int TH, const int TW, int* img, int* th, int* tw) {
    *img = p / (TH * TW);
    const int t = p - *img * (TH * TW);
    *th = t / TW;
    *tw = t - *th * TW;
}

// x: [N, C, H, W]; tiles TH x TW per image (the output is H x W); images n0 ... n0 + cn - 1.
__kernel void winograd_inputs(__global const float* x, __global float* v, const int C, const int H, const int W,
                              const int TH, const int TW, const int n0, const int cn) {
    const int idx = get_global_id(0);
    const int P = cn * TH * TW;
    if (idx >= C * P) return;
    const int c = idx / P, p = idx - c * P;
    int img, th, tw;
    winograd_tile(p, TH, TW, &img, &th, &tw);
    __global const float* plane = x + ((n0 + img) * C + c) * H * W;
    float d[16];
    for (int i = 0; i < 4; i++) {
        const int h = 2 * th - 1 + i;
        for (int j = 0; j < 4; j++) {
            const int w = 2 * tw - 1 + j;
            d[4 * i + j] = h >= 0 && h < H && w >= 0 && w < W ? plane[h * W + w] : 0.0f;
        }
    }
    // B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]: rows first, then columns.
    float r[16];
    for (int j = 0; j < 4; j++) {
        r[j] = d[j] - d[8 + j];
        r[4 + j] = d[4 + j] + d[8 + j];
        r[8 + j] = d[8 + j] - d[4 + j];
        r[12 + j] = d[4 + j] - d[12 + j];
    }
    const int stride = C * P;
    for (int i = 0; i < 4; i++) {
        const float a = r[4 * i], b = r[4 * i + 1], e = r[4 * i + 2], f = r[4 * i + 3];
        v[(4 * i + 0) * stride + idx] = a - e;
        v[(4 * i + 1) * stride + idx] = b + e;
        v[(4 * i + 2) * stride + idx] = e - b;
        v[(4 * i + 3) * stride + idx] = b - f;
    }
}

// m: [16][O][P]; y: [N, O, OH, OW].
__kernel void winograd_outputs(__global const float* m, __global float* y, __global const float* bias, const int has_bias,
                               const int O, const int OH, const int OW, const int TH, const int TW, const int n0,
                               const int cn) {
    const int idx = get_global_id(0);
    const int P = cn * TH * TW;
    if (idx >= O * P) return;
    const int o = idx / P, p = idx - o * P;
    int img, th, tw;
    winograd_tile(p, TH, TW, &img, &th, &tw);
    const int stride = O * P;
    float s[16];
    for (int xi = 0; xi < 16; xi++) s[xi] = m[xi * stride + idx];
    // A^T = [1 1 1 0; 0 1 -1 -1]: rows first (2x4), then columns.
    float r[8];
    for (int j = 0; j < 4; j++) {
        r[j] = s[j] + s[4 + j] + s[8 + j];
        r[4 + j] = s[4 + j] - s[8 + j] - s[12 + j];
    }
    const float b = has_bias ? bias[o] : 0.0f;
    __global float* out = y + ((n0 + img) * O + o) * OH * OW;
    for (int i = 0; i < 2; i++) {
        const int h = 2 * th + i;
        if (h >= OH) break;
        const float v0 = r[4 * i] + r[4 * i + 1] + r[4 * i + 2], v1 = r[4 * i + 1] - r[4 * i + 2] - r[4 * i + 3];
        const int w = 2 * tw;
        out[h * OW + w] = v0 + b;
        if (w + 1 < OW) out[h * OW + w + 1] = v1 + b;
    }
}
