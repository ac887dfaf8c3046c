// clang-format off
// (loops led by FM_UNROLL: see .clang-format)
#include "wide_gemm.h"
#include "kernel_vectors.h"

// A panel is KC rows of B, up to PANEL columns: 48 KB, the size of L1 on the CPUs this targets.
enum { ROWS = 4, VECTORS = 6, PANEL = 16 * VECTORS, KC = 128 };

long fm_wide_gemm_packed_a_floats(int m, int k) { return (long)((m + ROWS - 1) / ROWS) * ROWS * k; }

// One group of 4 rows: with A not transposed, 16 columns of the 4 rows at a time are
// interleaved by two rounds of shuffles (a scalar loop made the pack cost a third of a small
// product's time).
FM_INLINE void pack_group(const float *a, int lda, int transposed, int rows, int k,
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

// Step l of a tile's k loop: row l of the panel times column l of A's 4 rows.
FM_INLINE void step(v16 acc[ROWS][VECTORS], const float *pa, const float *const *ar,
                                                       const float *panel, int l, const int V, const int PACKED) {
    v16 bv[VECTORS];
    FM_UNROLL for (int v = 0; v < V; v++) bv[v] = load16(panel + l * PANEL + v * 16);
    FM_UNROLL for (int r = 0; r < ROWS; r++) {
        const v16 s = splat(PACKED ? pa[l * ROWS + r] : ar[r][l]);
        FM_UNROLL for (int v = 0; v < V; v++) acc[r][v] += s * bv[v];
    }
}

// Rows 0..<rows (<= 4) and V vectors of C, the last one `lanes` wide, from kc rows of packed A
// and of the panel. The first of a product's k blocks scales C by beta (C is not read when beta
// is 0, so it may hold anything) and adds the rows' bias (optional); later blocks add to C.
// PACKED: A from the packed group `pa`, else from rows a + r * lda (rows past `rows` reread
// row 0, whose sums are never stored). FETCH: step l < fetches of the k loop prefetches
// fetch[l] (a separate copy of the tile: a test in the k loop slowed shallow products).
FM_INLINE void tile(
    const float *pa, const float *a, int lda, const float *panel, float *c, int ldc, int kc, int rows, int lanes,
    int first, float beta, const float *bias, const float *const *fetch, int fetches, const int V, const int PACKED,
    const int FETCH) {
    v16 acc[ROWS][VECTORS];
    const float *ar[ROWS];
    FM_UNROLL for (int r = 0; r < ROWS; r++) ar[r] = PACKED ? 0 : a + (r < rows ? (long)r * lda : 0);
    FM_UNROLL for (int r = 0; r < ROWS; r++)
        FM_UNROLL for (int v = 0; v < V; v++) acc[r][v] = (v16){0};
    int l = 0;
    if (FETCH)
        for (; l < fetches; l++) {
            __builtin_prefetch(fetch[l]);
            step(acc, pa, ar, panel, l, V, PACKED);
        }
    for (; l < kc; l++) step(acc, pa, ar, panel, l, V, PACKED);
    const float scale = first ? beta : 1;
    if (first && bias)
        FM_UNROLL for (int r = 0; r < ROWS; r++)
            FM_UNROLL for (int v = 0; v < V; v++) acc[r][v] += splat(r < rows ? bias[r] : 0);
    if (rows == ROWS && lanes == 16) {
        FM_UNROLL for (int r = 0; r < ROWS; r++)
            FM_UNROLL for (int v = 0; v < V; v++) {
                float *p = c + (long)r * ldc + v * 16;
                store16(p, scale != 0 ? acc[r][v] + splat(scale) * load16(p) : acc[r][v]);
            }
        return;
    }
    // An edge tile: through a buffer, so the accumulators keep constant indices (in registers).
    float edge[ROWS][PANEL];
    FM_UNROLL for (int r = 0; r < ROWS; r++)
        FM_UNROLL for (int v = 0; v < V; v++) store16(&edge[r][v * 16], acc[r][v]);
    const int width = (V - 1) * 16 + lanes;
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < width; j++) {
            float *p = c + (long)r * ldc + j;
            *p = edge[r][j] + (scale != 0 ? scale * *p : 0);
        }
}

// dst[t] = plane[source(p0 + t)] for t < count: runs along output rows, each a strided copy.
FM_INLINE void gather(const float *plane, const fm_view *v, int p0, int count,
                                                         float *dst) {
    int oy = p0 / v->out_width, ox = p0 % v->out_width, t = 0;
    while (t < count) {
        const int run = count - t < v->out_width - ox ? count - t : v->out_width - ox;
        const float *src = plane + ((long)oy * v->in_width + ox) * v->stride;
        if (v->stride == 2) {
            // Even lanes of two vectors, 16 pixels at a time, then 8, so that a 24-pixel row is
            // not left half scalar.
            int i = 0;
            if (v->in_width >= 2 * v->out_width) {  // the second load stays inside the input row
                for (; i + 16 <= run; i += 16)
                    store16(dst + t + i, __builtin_shufflevector(load16(src + 2 * i), load16(src + 2 * i + 16), 0, 2, 4,
                                                                 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30));
                if (i + 8 <= run) {
                    const v16 w = load16(src + 2 * i);
                    store8(dst + t + i, __builtin_shufflevector(w, w, 0, 2, 4, 6, 8, 10, 12, 14));
                    i += 8;
                }
            }
            for (; i < run; i++) dst[t + i] = src[2 * i];
        }
        else
            for (int i = 0; i < run; i++) dst[t + i] = src[(long)i * v->stride];
        t += run;
        ox = 0;
        oy++;
    }
}

static inline long source(const fm_view *v, long p) {
    return (p / v->out_width * v->in_width + p % v->out_width) * v->stride;
}

static inline int plain(const fm_view *v) { return v->stride == 1 && v->in_width == v->out_width; }

// Which pack comes next: rows k0..<k0+kc and columns j0..<j0+width of view v (v NULL: none).
typedef struct {
    const fm_view *v;
    int k0, kc, j0, width;
} next_pack;

// How many lines (rows, or columns when transposed) the next pack gathers.
static inline int lines_of(const next_pack *next) {
    return !next->v ? 0 : next->v->transposed ? next->width : next->kc;
}

// Offsets from a line's start of the cache lines one line of the next pack reads (every line
// reads the same pixels of its own plane): count, or -1 past `most`.
static inline int line_offsets(const next_pack *next, long *offsets, int most) {
    const fm_view *v = next->v;
    const int p0 = v->transposed ? next->k0 : next->j0, count = v->transposed ? next->kc : next->width;
    int oy = p0 / v->out_width, ox = p0 % v->out_width, n = 0;
    for (int t = 0; t < count;) {
        const int run = count - t < v->out_width - ox ? count - t : v->out_width - ox;
        const long from = ((long)oy * v->in_width + ox) * v->stride, to = from + (long)(run - 1) * v->stride;
        for (long q = from; q <= to; q += 16) {
            if (n == most) return -1;
            offsets[n++] = q;
        }
        if (n == most) return -1;
        offsets[n++] = to;
        t += run;
        ox = 0;
        oy++;
    }
    return n;
}

// Prefetches what the next pack reads in its row l (untransposed) or column l (transposed),
// during this pack: one line per line of this pack, at the `per_line` offsets line_offsets
// found (only the rows a strided view reads: the whole span of a 1x1 stride-2 weight
// gradient's k block holds odd input rows it never reads),
// or where there were too many, every line of the span. The panels' strided gathers across
// planes defeat the hardware prefetchers. Used where the tiles do not fetch (fetch_in_tiles
// below): transposed next packs, whose own slow gather spreads the burst, and shallow k blocks.
FM_INLINE void prefetch_next(const next_pack *next, int l, const long *offsets,
                                                                int per_line) {
    const fm_view *v = next->v;
    if (!v || l >= lines_of(next)) return;
    const float *line = v->data + (long)(l + (v->transposed ? next->j0 : next->k0)) * v->ld;
    if (per_line > 0) {
        for (int i = 0; i < per_line; i++) __builtin_prefetch(line + offsets[i]);
        return;
    }
    const int p0 = v->transposed ? next->k0 : next->j0, count = v->transposed ? next->kc : next->width;
    const long last = source(v, p0 + count - 1);
    for (long q = source(v, p0); q <= last; q += 16) __builtin_prefetch(line + q);
}

// The next pack's lines are fetched during the tiles rather than during this pack: each group
// of 4 rows of A fetches its share of them, a cache line per step of its k loop. Fetched in one
// burst per pack, the lines come from memory late (the misses queue up).
typedef struct {
    const float *at[KC];
    int count;
} fetch_list;

// Whether the next pack's lines, `per_line` fetches each, fit in `groups` groups' lists of at
// most kc fetches. Only in k blocks of 64 rows and more: where a block is shallow the product
// waits on memory anyway, and the fetches are better issued all at once, as early as they can
// be.
static inline int fetch_in_tiles(const next_pack *next, int groups, int kc, int per_line) {
    if (!next->v || next->v->transposed || kc < 64) return 0;
    const int per_group = (lines_of(next) + groups - 1) / groups;
    return per_line > 0 && per_group * per_line <= kc;
}

// Group g's share of the next pack's lines.
static inline void plan_fetches(const next_pack *next, int g, int groups, const long *offsets, int per_line,
                                fetch_list *list) {
    const int lines = lines_of(next), per_group = (lines + groups - 1) / groups;
    const int first = next->v->transposed ? next->j0 : next->k0;
    list->count = 0;
    for (int l = g * per_group; l < (g + 1) * per_group && l < lines; l++) {
        const float *line = next->v->data + (long)(first + l) * next->v->ld;
        for (int i = 0; i < per_line; i++) list->at[list->count++] = line + offsets[i];
    }
}

// Rows k0..<k0+kc and columns j0..<j0+width of B to the panel, zero past width.
// `next` (its v NULL: none) is prefetched at its lines' `offsets` (line_offsets).
FM_INLINE void pack_view(const fm_view *v, int k0, int kc, int j0, int width,
                                                            float *panel, const next_pack *next, const long *offsets,
                                                            int per_line) {
    if (!v->transposed) {
        for (int l = 0; l < kc; l++) {
            const float *row = v->data + (long)(k0 + l) * v->ld;
            float *dst = panel + l * PANEL;
            prefetch_next(next, l, offsets, per_line);
            if (plain(v)) {
                int j = 0;
                for (; j + 16 <= width; j += 16) store16(dst + j, load16(row + j0 + j));
                for (; j < width; j++) dst[j] = row[j0 + j];
            } else {
                gather(row, v, j0, width, dst);
            }
            for (int j = width; j < PANEL; j++) dst[j] = 0;
        }
        // A next pack with more rows.
        for (int l = kc; l < lines_of(next); l++) prefetch_next(next, l, offsets, per_line);
        return;
    }
    // Transposed: 16 columns' kc values gathered into rows of `part`, then 16 x 16 blocks
    // through register transposes.
    float part[16][KC] __attribute__((aligned(64)));
    const int kc16 = (kc + 15) & ~15;
    for (int j = 0; j < PANEL; j += 16) {
        for (int jj = 0; jj < 16; jj++) {
            prefetch_next(next, j + jj, offsets, per_line);
            if (j + jj < width)
                gather(v->data + (long)(j0 + j + jj) * v->ld, v, k0, kc, part[jj]);
            else
                for (int l = 0; l < kc; l++) part[jj][l] = 0;
            for (int l = kc; l < kc16; l++) part[jj][l] = 0;
        }
        for (int l = 0; l < kc16; l += 16) {
            v16 r[16];
            FM_UNROLL for (int i = 0; i < 16; i++) r[i] = load16(&part[i][l]);
            transpose16(r);
            for (int i = 0; i < 16 && l + i < kc; i++) store16(panel + (l + i) * PANEL + j, r[i]);
        }
    }
    // A next pack with more lines.
    for (int l = PANEL; l < lines_of(next); l++) prefetch_next(next, l, offsets, per_line);
}

#define FM_TILE(V, PACKED, FETCH) \
    tile(pa, ai, lda, panel, ct, ldc, kc, rows, lanes, first, beta, rb, fetch.at, fetch.count, V, PACKED, FETCH)
#define FM_TILE_CASES(PACKED, FETCH)              \
    switch (vectors) {                            \
    case 6: FM_TILE(6, PACKED, FETCH); break;     \
    case 5: FM_TILE(5, PACKED, FETCH); break;     \
    case 4: FM_TILE(4, PACKED, FETCH); break;     \
    case 3: FM_TILE(3, PACKED, FETCH); break;     \
    case 2: FM_TILE(2, PACKED, FETCH); break;     \
    default: FM_TILE(1, PACKED, FETCH); break;    \
    }

// Rows of B per k block: k split into blocks of at most KC rows, as even as they go (288 as 3 x
// 96, not 128 + 128 + 32: a short last block pays a whole pack and a pass over C for a few steps).
// Where k runs along the output pixels of a strided view (a 1x1 weight gradient), blocks hold
// whole output rows, at most 96 pixels: a block that ends mid-row splits that row's gather into
// two short runs: 576 pixels of 24 go as 6 x 96, not 5 x 116 (which also leaves the panel
// more room in L1).
static inline int k_block(int k, const fm_view *b) {
    if (b->transposed && !plain(b) && k % b->out_width == 0 && b->out_width <= 96) {
        const int rows = k / b->out_width, most = 96 / b->out_width, blocks = (rows + most - 1) / most;
        return (rows + blocks - 1) / blocks * b->out_width;
    }
    const int blocks = (k + KC - 1) / KC;
    return blocks ? (k + blocks - 1) / blocks : 1;
}

#define FM_WIDE_GEMM(SUFFIX, TARGET)                                                                        \
    TARGET static void wide_gemm_##SUFFIX(const float *packed_a, const float *a, int lda, int m, int n, int k, \
                                          const fm_view *b, float beta, const float *bias, float *c, int ldc,   \
                                          const fm_next *then) {                                               \
        float panel[KC * PANEL] __attribute__((aligned(64)));                                                \
        const int kb = k_block(k, b);                                                                        \
        for (int j = 0; j < n; j += PANEL) {                                                                 \
            const int width = n - j < PANEL ? n - j : PANEL;                                                 \
            const int vectors = (width + 15) / 16, lanes = width - (vectors - 1) * 16;                       \
            for (int k0 = 0; k0 < k; k0 += kb) {                                                             \
                const int kc = k - k0 < kb ? k - k0 : kb;                                                    \
                next_pack next = {b, k0 + kb, k - k0 - kb < kb ? k - k0 - kb : kb, j, width};               \
                if (k0 + kb >= k) {                                                                          \
                    const int j1 = j + PANEL, w1 = n - j1 < PANEL ? n - j1 : PANEL;                          \
                    next = j1 < n ? (next_pack){b, 0, kb, j1, w1}                                            \
                           : then ? (next_pack){&then->b, 0, k_block(then->k, &then->b), 0,                  \
                                                then->n < PANEL ? then->n : PANEL}                           \
                                  : (next_pack){0, 0, 0, 0, 0};                                              \
                }                                                                                            \
                const int groups = (m + ROWS - 1) / ROWS;                                                    \
                long offsets[KC];                                                                            \
                const int per_line = next.v ? line_offsets(&next, offsets, KC) : 0;                          \
                const int in_tiles = fetch_in_tiles(&next, groups, kc, per_line);                            \
                const next_pack none = {0, 0, 0, 0, 0};                                                      \
                pack_view(b, k0, kc, j, width, panel, in_tiles ? &none : &next, offsets, per_line);          \
                fetch_list fetch;                                                                            \
                fetch.count = 0;                                                                             \
                for (int i = 0; i < m; i += ROWS) {                                                          \
                    if (in_tiles) plan_fetches(&next, i / ROWS, groups, offsets, per_line, &fetch);          \
                    const float *pa = packed_a ? packed_a + ((long)(i / ROWS) * k + k0) * ROWS : 0;          \
                    const float *ai = packed_a ? 0 : a + (long)i * lda + k0;                                 \
                    const float *rb = bias ? bias + i : 0;                                                   \
                    float *ct = c + (long)i * ldc + j;                                                       \
                    const int rows = m - i < ROWS ? m - i : ROWS, first = k0 == 0;                           \
                    if (packed_a && in_tiles) {                                                              \
                        FM_TILE_CASES(1, 1)                                                                  \
                    } else if (packed_a) {                                                                   \
                        FM_TILE_CASES(1, 0)                                                                  \
                    } else {                                                                                 \
                        /* These rows' next k block (or, after the last, the next product's first). */      \
                        if (k0 + kb < k)                                                                     \
                            for (int r = 0; r < rows; r++)                                                   \
                                for (int q = 0; q < kb; q += 16) __builtin_prefetch(ai + (long)r * lda + kb + q); \
                        else if (then && then->a)                                                            \
                            for (int r = 0; r < rows; r++)                                                   \
                                for (int q = 0; q < KC; q += 16)                                             \
                                    __builtin_prefetch(then->a + (long)(i + r) * then->lda + q);             \
                        if (in_tiles) {                                                                      \
                            FM_TILE_CASES(0, 1)                                                              \
                        } else {                                                                             \
                            FM_TILE_CASES(0, 0)                                                              \
                        }                                                                                    \
                    }                                                                                        \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
    }

FM_BOTH_COPIES(FM_WIDE_GEMM)

void fm_wide_gemm(const float *packed_a, const float *a, int lda, int m, int n, int k, fm_view b, float beta,
                  const float *bias, float *c, int ldc, const fm_next *then) {
    FM_PICK(wide_gemm)(packed_a, a, lda, m, n, k, &b, beta, bias, c, ldc, then);
}
