// clang-format off
// (loops led by FM_UNROLL: see .clang-format)
#ifndef FACEMINE_DIRECT_CONV_H
#define FACEMINE_DIRECT_CONV_H
// Direct 3x3 convolutions (padding 1) for the planes of ResNet-18 and MyCNN on 48x48 faces,
// where much of an im2col matrix would be padding, and the 1x1 stride-2 shortcut projections
// on the smallest planes (padding 0), whose im2col matrix is only a subsampled copy of x.
// Each output sums only the taps that land inside the input, 16 channels to a vector, a few
// images (or pixels of a row) to a tile of accumulators.
// Channel counts must be multiples of 16; `block_begin..<block_end` are 16-channel blocks, so
// callers split the work over threads. Plain C vectors, compiled for AVX-512 and for the
// baseline, the AVX-512 copy used where the CPU has it.

// Geometries are the rows of the table in direct_geometries.h (3x3 at stride 1 and 2 on the
// 2x2 ... 48x48 planes, 1x1 at stride 2 on 6x6 and 3x3), numbered in its order.
// The geometry for a kernel size, input width, output width and stride, or -1 for none.
int fm_direct_geometry(int kernel, int in_width, int out_width, int stride);
// How many geometries there are, and each one's name and shape: what the tests walk.
int fm_direct_geometry_count(void);
const char *fm_direct_geometry_shape(int geometry, int *kernel, int *in_width, int *out_width, int *stride);
// Kernel taps of a geometry: 9, or 1 for the 1x1 ones.
int fm_direct_taps(int geometry);
// Whether the AVX-512 copy runs here (else the baseline copy, correct but slower).
int fm_direct_fast(void);
// Tests: run the baseline copy even where AVX-512 is available, so both copies are checked; for
// the calling thread only (and the backend's workers while they run its loops).
void fm_direct_use_baseline(int yes);
int fm_direct_baseline_forced(void);
// Whether calls run the AVX-512 copy now (fast, and the baseline copy not forced).
int fm_direct_use_fast(void);

// Weights [out][in][taps] -> packed[ob][in][taps][16] (blocks of out channels), or with
// `transposed` -> packed[ib][out][taps][16] (blocks of in channels, for the input gradient); block
// block_begin goes to the start of `packed`.
void fm_direct_pack(const float *w, float *packed, int out_ch, int in_ch, int taps, int transposed, int block_begin,
                    int block_end);
// The inverse of the untransposed packing, for blocks of out channels.
void fm_direct_unpack(const float *packed, float *w, int out_ch, int in_ch, int taps, int block_begin, int block_end);

// y [n][out][out plane] = conv(x [n][in][in plane]); blocks of out channels, `packed` holding
// blocks block_begin..<block_end (as fm_direct_pack writes them for the same range).
void fm_direct_forward(int geometry, const float *x, const float *packed, float *y,
                       int n, int in_ch, int out_ch, int block_begin, int block_end);
// dx [n][in][in plane] = conv^T(dy [n][out][out plane]) with transposed packing; blocks of in
// channels, `packed_t` holding blocks block_begin..<block_end.
void fm_direct_input_grad(int geometry, const float *dy, const float *packed_t, float *dx,
                          int n, int in_ch, int out_ch, int block_begin, int block_end);
// fm_direct_weight_grad's operands for images n_begin..<n_end: dy [n][out][out plane] ->
// dy_b[ob][n][out pixel][16] (out a multiple of 16), and, where x_t is given, x [n][in][in plane]
// -> x_t[in][n][in plane]; with `stream`, x_t is written around the caches (non-temporal stores,
// where in plane is a multiple of 16; x_t 64-byte aligned).
void fm_direct_weight_grad_operands(const float *dy, float *dy_b, const float *x, float *x_t, int n, int out_ch,
                                    int in_ch, int plane, int in_plane, int n_begin, int n_end, int stream);
// packed_grad[ob][in][taps][16] = sum over images and pixels of dy_b x x, where dy_b[ob][n][out
// pixel][16] is dy in 16-channel blocks and x is the input with channels outermost
// [in][n][in pixel] where fm_direct_weight_grad_wants_x_by_channel(geometry) says so (the 3x3
// geometries but 48x48 stride 1), else in its own layout [n][in][in pixel]; blocks of out
// channels, and in channels in_begin..<in_end (even bounds).
// The forward and input-gradient kernels split over images by offsetting their pointers.
int fm_direct_weight_grad_wants_x_by_channel(int geometry);
void fm_direct_weight_grad(int geometry, const float *x, const float *dy_b, float *packed_grad,
                           int n, int in_ch, int in_begin, int in_end, int block_begin, int block_end);

// One-channel first layers (first_layer_conv.c): 3x3, padding 1, stride 1, 48x48 planes, out
// channels a multiple of 8; weights in their own layout [out][9], bias optional (NULL). The
// forward's `scratch` holds one plane as fm_first_pad writes it (FM_FIRST_PADDED floats).
enum { FM_FIRST_PADDED = 3 * 50 * 48, FM_FIRST_SUMS = 10 * 16 };
void fm_first_forward(const float *x, const float *w, const float *bias, float *y, int n, int out_ch, float *scratch);
void fm_first_input_grad(const float *dy, const float *w, float *dx, int n, int out_ch);
// n 48x48 planes to FM_FIRST_PADDED floats each: three copies with a zero border, shifted by a
// column each ([kernel column][50 rows][48]), so that every tap is an aligned load.
void fm_first_pad(const float *x, float *padded, int n);
// dw[co][9] and db[co] (db optional) for out channels co_begin..<co_end (even bounds), from
// fm_first_pad's copy of x; `sums` holds out_ch x FM_FIRST_SUMS floats of partial sums.
void fm_first_weight_grad(const float *padded, const float *dy, float *dw, float *db, float *sums, int n, int out_ch,
                          int co_begin, int co_end);

// The imagenet stem (stem_conv.c): one channel, 7x7, stride 2, padding 3, 48x48 -> 24x24, out
// channels a multiple of 8; weights [out][49], bias optional. fm_stem_arrange lays each image
// out as its taps (FM_STEM_TAPS floats), the weight gradient's view of x; the forward's and
// input gradient's `scratch` holds one such image.
enum { FM_STEM_TAPS = 7 * 2 * 27 * 24, FM_STEM_SUMS_PER_CHANNEL = 50 * 16 };
void fm_stem_arrange(const float *x, float *taps, int n);
void fm_stem_forward(const float *x, const float *w, const float *bias, float *y, int n, int out_ch, float *scratch);
void fm_stem_input_grad(const float *dy, const float *w, float *dx, int n, int out_ch, float *scratch);
// dw[co][49] and db[co] (db optional) for out channels co_begin..<co_end (even bounds), from
// fm_stem_arrange's copies; `sums` holds out_ch x FM_STEM_SUMS_PER_CHANNEL floats.
void fm_stem_weight_grad(const float *taps, const float *dy, float *dw, float *db, float *sums, int n, int out_ch,
                         int co_begin, int co_end);
// 1x1 convolutions at a stride (PointwiseConvolution.swift): dx [channels][height][width] with
// the subsampled gradient dxs [channels][out pixel] at the pixels the kernel read, zero elsewhere.
void fm_upsample_with_zeros(const float *dxs, float *dx, int channels, int height, int width, int stride);
#endif
