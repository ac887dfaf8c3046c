#include "wide_gemm.h"
#include "direct_conv.h"
#include "kernel_vectors.h"

// A panel is KC rows of B, up to PANEL columns: 48 KB, the size of L1 on the CPUs this targets.
enum { ROWS = 4, VECTORS = 6, PANEL = 16 * VECTORS, KC = 128 };

long fm_wide_gemm_packed_a_floats(int m, int k) { return (long)((m + ROWS - 1) / ROWS) * ROWS * k; }

// One group of 4 rows: with A not transposed, 16 columns of the 4 rows at a time are
// interleaved by two rounds of shuffles (a scalar loop made the pack cost a third of a small
// product's time).
static inline __attribute__((always_inline)) void pack_group(const float *a, int lda, int transposed, int rows, int k,
                                                             float alpha, float *packed) {
    int l = 0;
    if (!transposed && rows == ROWS)
        for (; l + 16 <= k; l += 16) {
            const v16 s = splat(alpha);
            v16 v0 = s * load16(a + l), v1 = s * load16(a + lda + l);
            v16 v2 = s * load16(a + 2L * lda + l), v3 = s * load16(a + 3L * lda + l);
            v16 a_lo = __builtin_shufflevector(v0, v1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            v16 a_hi = __builtin_shufflevector(v0, v1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            v16 b_lo = __builtin_shufflevector(v2, v3, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            v16 b_hi = __builtin_shufflevector(v2, v3, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            float *out = packed + (long)l * ROWS;
            store16(out, __builtin_shufflevector(a_lo, b_lo, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
            store16(out + 16, __builtin_shufflevector(a_lo, b_lo, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31));
            store16(out + 32, __builtin_shufflevector(a_hi, b_hi, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
            store16(out + 48, __builtin_shufflevector(a_hi, b_hi, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31));
        }
    for (; l < k; l++)
        for (int r = 0; r < ROWS; r++)
            packed[(long)l * ROWS + r] = r < rows ? alpha * (transposed ? a[(long)l * lda + r] : a[(long)r * lda + l]) : 0;
}

#define FM_PACK_A(SUFFIX, TARGET)                                                                              \
    TARGET static void pack_a_##SUFFIX(const float *a, int lda, int transposed, int m, int k, float alpha,     \
                                       float *packed) {                                                        \
        for (int i = 0; i < m; i += ROWS)                                                                      \
            pack_group(a + (transposed ? i : (long)i * lda), lda, transposed, m - i < ROWS ? m - i : ROWS, k, \
                       alpha, packed + (long)i * k);                                                           \
    }
FM_BOTH_COPIES(FM_PACK_A)

void fm_wide_gemm_pack_a(const float *a, int lda, int transposed, int m, int k, float alpha, float *packed) {
    FM_PICK(pack_a)(a, lda, transposed, m, k, alpha, packed);
}

// Rows 0..<rows (<= 4) and V vectors of C, the last one `lanes` wide, from kc rows of packed A
// and of the panel. The first of a product's k blocks scales C by beta (C is not read when beta
// is 0, so it may hold anything) and adds the rows' bias (optional); later blocks add to C.
static inline __attribute__((always_inline)) void tile(
    const float *pa, const float *panel, float *c, int ldc, int kc, int rows, int lanes, int first, float beta,
    const float *bias, const int V) {
    v16 acc[ROWS][VECTORS];
    _Pragma("clang loop unroll(full)") for (int r = 0; r < ROWS; r++)
        _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++) acc[r][v] = (v16){0};
    for (int l = 0; l < kc; l++) {
        v16 bv[VECTORS];
        _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++) bv[v] = load16(panel + l * PANEL + v * 16);
        _Pragma("clang loop unroll(full)") for (int r = 0; r < ROWS; r++) {
            const v16 s = splat(pa[l * ROWS + r]);
            _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++) acc[r][v] += s * bv[v];
        }
    }
    const float scale = first ? beta : 1;
    if (first && bias)
        _Pragma("clang loop unroll(full)") for (int r = 0; r < ROWS; r++)
            _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++) acc[r][v] += splat(r < rows ? bias[r] : 0);
    if (rows == ROWS && lanes == 16) {
        _Pragma("clang loop unroll(full)") for (int r = 0; r < ROWS; r++)
            _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++) {
                float *p = c + (long)r * ldc + v * 16;
                store16(p, scale != 0 ? acc[r][v] + splat(scale) * load16(p) : acc[r][v]);
            }
        return;
    }
    // An edge tile: through a buffer, so the accumulators keep constant indices (in registers).
    float edge[ROWS][PANEL];
    _Pragma("clang loop unroll(full)") for (int r = 0; r < ROWS; r++)
        _Pragma("clang loop unroll(full)") for (int v = 0; v < V; v++) store16(&edge[r][v * 16], acc[r][v]);
    const int width = (V - 1) * 16 + lanes;
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < width; j++) {
            float *p = c + (long)r * ldc + j;
            *p = edge[r][j] + (scale != 0 ? scale * *p : 0);
        }
}

// Rows kc of B's columns 0..<width to the panel, zero past width. `next` is where the next
// panel will be packed from: its rows are fetched while this panel's multiply-adds run
// (prefetches past the end of B do not fault).
static inline __attribute__((always_inline)) void pack_panel(const float *b, int ldb, int kc, int width, float *panel,
                                                             const float *next) {
    for (int l = 0; l < kc; l++) {
        const float *src = b + (long)l * ldb;
        float *dst = panel + l * PANEL;
        _Pragma("clang loop unroll(full)") for (int q = 0; q < VECTORS; q++)
            __builtin_prefetch(next + (long)l * ldb + 16 * q);
        int j = 0;
        for (; j + 16 <= width; j += 16) store16(dst + j, load16(src + j));
        for (; j < width; j++) dst[j] = src[j];
        for (; j < PANEL; j++) dst[j] = 0;
    }
}

// The same panel from B stored transposed (B(l, j) = b[j * ldb + l]): 16 x 16 blocks through
// register transposes, scalar at the edges.
static inline __attribute__((always_inline)) void pack_panel_transposed(const float *b, int ldb, int kc, int width,
                                                                        float *panel) {
    int l = 0;
    for (; l + 16 <= kc; l += 16) {
        int j = 0;
        for (; j + 16 <= width; j += 16) {
            v16 r[16];
            _Pragma("clang loop unroll(full)") for (int i = 0; i < 16; i++) r[i] = load16(b + (long)(j + i) * ldb + l);
            transpose16(r);
            _Pragma("clang loop unroll(full)") for (int i = 0; i < 16; i++) store16(panel + (l + i) * PANEL + j, r[i]);
        }
        for (int i = 0; i < 16; i++)
            for (int jj = j; jj < PANEL; jj++) panel[(l + i) * PANEL + jj] = jj < width ? b[(long)jj * ldb + l + i] : 0;
    }
    for (; l < kc; l++)
        for (int j = 0; j < PANEL; j++) panel[l * PANEL + j] = j < width ? b[(long)j * ldb + l] : 0;
}

#define FM_WIDE_GEMM(SUFFIX, TARGET)                                                                        \
    TARGET static void wide_gemm_##SUFFIX(const float *packed_a, int m, int n, int k, const float *b, int ldb, \
                                          int b_transposed, float beta, const float *bias, float *c, int ldc) { \
        float panel[KC * PANEL] __attribute__((aligned(64)));                                                \
        for (int j = 0; j < n; j += PANEL) {                                                                 \
            const int width = n - j < PANEL ? n - j : PANEL;                                                 \
            const int vectors = (width + 15) / 16, lanes = width - (vectors - 1) * 16;                       \
            for (int k0 = 0; k0 < k; k0 += KC) {                                                             \
                const int kc = k - k0 < KC ? k - k0 : KC;                                                    \
                if (b_transposed) {                                                                          \
                    pack_panel_transposed(b + (long)j * ldb + k0, ldb, kc, width, panel);                    \
                } else {                                                                                     \
                    const float *next = k0 + KC < k ? b + (long)(k0 + KC) * ldb + j : b + j + PANEL;         \
                    pack_panel(b + (long)k0 * ldb + j, ldb, kc, width, panel, next);                         \
                }                                                                                            \
                for (int i = 0; i < m; i += ROWS) {                                                          \
                    const float *pa = packed_a + ((long)(i / ROWS) * k + k0) * ROWS;                         \
                    const float *rb = bias ? bias + i : 0;                                                   \
                    float *ct = c + (long)i * ldc + j;                                                       \
                    const int rows = m - i < ROWS ? m - i : ROWS, first = k0 == 0;                           \
                    switch (vectors) {                                                                       \
                    case 6: tile(pa, panel, ct, ldc, kc, rows, lanes, first, beta, rb, 6); break;            \
                    case 5: tile(pa, panel, ct, ldc, kc, rows, lanes, first, beta, rb, 5); break;            \
                    case 4: tile(pa, panel, ct, ldc, kc, rows, lanes, first, beta, rb, 4); break;            \
                    case 3: tile(pa, panel, ct, ldc, kc, rows, lanes, first, beta, rb, 3); break;            \
                    case 2: tile(pa, panel, ct, ldc, kc, rows, lanes, first, beta, rb, 2); break;            \
                    default: tile(pa, panel, ct, ldc, kc, rows, lanes, first, beta, rb, 1); break;           \
                    }                                                                                        \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
    }

FM_BOTH_COPIES(FM_WIDE_GEMM)

void fm_wide_gemm(const float *packed_a, int m, int n, int k, const float *b, int ldb, int b_transposed, float beta,
                  const float *bias, float *c, int ldc) {
    FM_PICK(wide_gemm)(packed_a, m, n, k, b, ldb, b_transposed, beta, bias, c, ldc);
}
