#ifndef FACEMINE_WIDE_GEMM_H
#define FACEMINE_WIDE_GEMM_H
// Row-major products with few rows and many columns, C [m][n] = alpha A B + beta C with
// A(i, l) = a[i * lda + l] (or a[l * lda + i] transposed) and B [k][n]: the im2col products of
// layers with 32-128 out channels. OpenBLAS packs all of B and ran these at 50-65% of a core;
// here A is packed once (it is small), and B goes by panels of 96 columns through L1, each
// panel used by every 4 rows of A (24 accumulators: 4 rows x 6 vectors of 16 columns).
// Compiled for AVX-512 and for the baseline like the convolution kernels (fm_direct_use_fast).

// Floats that fm_wide_gemm_pack_a writes: m rounded up to 4, times k.
long fm_wide_gemm_packed_a_floats(int m, int k);
// alpha A as 4-row groups [m / 4][k][4], rows past m zero.
void fm_wide_gemm_pack_a(const float *a, int lda, int transposed, int m, int k, float alpha, float *packed);
// Columns 0..<n of C from packed A and B, both already offset to the first column: one
// thread's share; threads take disjoint column ranges (multiples of 96 keep panels whole).
// B(l, j) = b[l * ldb + j], or b[j * ldb + l] with b_transposed (panels then go through
// register transposes). bias (optional, NULL) holds one value per row of C, added to it.
void fm_wide_gemm(const float *packed_a, int m, int n, int k, const float *b, int ldb, int b_transposed, float beta,
                  const float *bias, float *c, int ldc);
#endif
