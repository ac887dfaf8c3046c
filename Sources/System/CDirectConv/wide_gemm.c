#include "wide_gemm.h"
#include "direct_conv.h"
#include "kernel_vectors.h"

// A panel is KC rows of B, up to PANEL columns: 48 KB, the size of L1 on the CPUs this targets.
enum { ROWS = 4, VECTORS = 6, PANEL = 16 * VECTORS, KC = 128 };

long fm_wide_gemm_packed_a_floats(int m, int k) { return (long)((m + ROWS - 1) / ROWS) * ROWS * k; }

void fm_wide_gemm_pack_a(const float *a, int lda, int transposed, int m, int k, float alpha, float *packed) {
    for (int g = 0; g < (m + ROWS - 1) / ROWS; g++)
        for (int l = 0; l < k; l++)
            for (int r = 0; r < ROWS; r++) {
                int i = g * ROWS + r;
                float v = i < m ? (transposed ? a[(long)l * lda + i] : a[(long)i * lda + l]) : 0;
                packed[((long)g * k + l) * ROWS + r] = alpha * v;
            }
}

// Rows 0..<rows (<= 4) and V vectors of C, the last one `lanes` wide, from kc rows of packed A
// and of the panel. The first of a product's k blocks scales C by beta (C is not read when beta
// is 0, so it may hold anything); later blocks add to it.
static inline __attribute__((always_inline)) void tile(
    const float *pa, const float *panel, float *c, int ldc, int kc, int rows, int lanes, int first, float beta,
    const int V) {
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

#define FM_WIDE_GEMM(SUFFIX, TARGET)                                                                        \
    TARGET static void wide_gemm_##SUFFIX(const float *packed_a, int m, int n, int k, const float *b, int ldb, \
                                          float beta, float *c, int ldc) {                                   \
        float panel[KC * PANEL] __attribute__((aligned(64)));                                                \
        for (int j = 0; j < n; j += PANEL) {                                                                 \
            const int width = n - j < PANEL ? n - j : PANEL;                                                 \
            const int vectors = (width + 15) / 16, lanes = width - (vectors - 1) * 16;                       \
            for (int k0 = 0; k0 < k; k0 += KC) {                                                             \
                const int kc = k - k0 < KC ? k - k0 : KC;                                                    \
                const float *next = k0 + KC < k ? b + (long)(k0 + KC) * ldb + j : b + j + PANEL;             \
                pack_panel(b + (long)k0 * ldb + j, ldb, kc, width, panel, next);                             \
                for (int i = 0; i < m; i += ROWS) {                                                          \
                    const float *pa = packed_a + ((long)(i / ROWS) * k + k0) * ROWS;                         \
                    float *ct = c + (long)i * ldc + j;                                                       \
                    const int rows = m - i < ROWS ? m - i : ROWS, first = k0 == 0;                           \
                    switch (vectors) {                                                                       \
                    case 6: tile(pa, panel, ct, ldc, kc, rows, lanes, first, beta, 6); break;                \
                    case 5: tile(pa, panel, ct, ldc, kc, rows, lanes, first, beta, 5); break;                \
                    case 4: tile(pa, panel, ct, ldc, kc, rows, lanes, first, beta, 4); break;                \
                    case 3: tile(pa, panel, ct, ldc, kc, rows, lanes, first, beta, 3); break;                \
                    case 2: tile(pa, panel, ct, ldc, kc, rows, lanes, first, beta, 2); break;                \
                    default: tile(pa, panel, ct, ldc, kc, rows, lanes, first, beta, 1); break;               \
                    }                                                                                        \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
    }

FM_BOTH_COPIES(FM_WIDE_GEMM)

void fm_wide_gemm(const float *packed_a, int m, int n, int k, const float *b, int ldb, float beta, float *c, int ldc) {
    FM_PICK(wide_gemm)(packed_a, m, n, k, b, ldb, beta, c, ldc);
}
