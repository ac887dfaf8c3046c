#ifndef FACEMINE_WIDE_GEMM_H
#define FACEMINE_WIDE_GEMM_H
// Row-major products with few rows and many columns, C [m][n] = alpha A B + beta C with
// A(i, l) = a[i * lda + l] (or a[l * lda + i] transposed) and B [k][n]: the im2col products of
// layers with 32-128 out channels. OpenBLAS packs all of B, which costs more than these
// products; here A is packed once (it is small), and B goes by panels of 96 columns through L1, each
// panel used by every 4 rows of A (24 accumulators: 4 rows x 6 vectors of 16 columns).
// Compiled for AVX-512 and for the baseline like the convolution kernels (kernel_support.h).

// Floats that fm_wide_gemm_pack_a writes: m rounded up to 4, times k.
long fm_wide_gemm_packed_a_floats(int m, int k);
// alpha A as 4-row groups [m / 4][k][4], rows past m zero.
void fm_wide_gemm_pack_a(const float *a, int lda, int transposed, int m, int k, float alpha, float *packed);
// B as a view of a stack of planes: B(l, j) = data[l * ld + source(j)], or transposed
// data[j * ld + source(l)], where source(p) = (p / out_width) * stride * in_width +
// (p % out_width) * stride picks the pixels a 1x1 kernel at that stride reads. A plain
// row-major matrix is the view with stride 1 and in_width = out_width = its row length.
typedef struct {
    const float *data;
    long ld;
    int transposed, in_width, out_width, stride;
} fm_view;

// Columns 0..<n of C = alpha A B + beta C (+ bias[i] on row i, bias optional): one thread's
// share; threads take disjoint column ranges of a plain B (multiples of 96 keep panels whole),
// offsetting data and c. A comes packed (fm_wide_gemm_pack_a, alpha applied there) or, with
// packed_a NULL, as rows a[i * lda + l] (alpha 1), read in place: where A is used once, as dY
// in a weight gradient, packing it would only add a pass over memory.
// `then` (optional) describes the product the caller runs next (n and k its sizes, a its A
// rows or NULL when packed): its first panel and A's first k block are fetched during this
// product's last, so consecutive products over images in memory do not start cold.
typedef struct {
    fm_view b;
    int n, k;
    const float *a;
    int lda;
} fm_next;
void fm_wide_gemm(const float *packed_a, const float *a, int lda, int m, int n, int k, fm_view b, float beta,
                  const float *bias, float *c, int ldc, const fm_next *then);
#endif
