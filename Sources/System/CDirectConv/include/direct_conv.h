#ifndef FACEMINE_DIRECT_CONV_H
#define FACEMINE_DIRECT_CONV_H
// Direct 3x3 convolutions (padding 1) for the planes of ResNet-18 and MyCNN on 48x48 faces,
// where much of an im2col matrix would be padding, and the 1x1 stride-2 shortcut projections
// on the smallest planes (padding 0), whose im2col matrix is only a subsampled copy of x.
// Each output sums only the taps that land inside the input, 16 channels to a vector, a few
// images (or pixels of a row) to a tile of accumulators. Plain C vectors, compiled for AVX-512
// and for the baseline (kernel_support.h says which copy runs).

// Geometries are the rows of the table in direct_geometries.h (3x3 at stride 1 and 2 on the
// 2x2 ... 48x48 planes, 1x1 at stride 2 on 6x6 and 3x3), numbered in its order.
// The geometry for a kernel size, input width, output width and stride, or -1 for none.
int fm_direct_geometry(int kernel, int in_width, int out_width, int stride);
// How many geometries there are, and each one's name and shape: what the tests walk.
int fm_direct_geometry_count(void);
const char *fm_direct_geometry_shape(int geometry, int *kernel, int *in_width, int *out_width, int *stride);
// Kernel taps of a geometry: 9, or 1 for the 1x1 ones.
int fm_direct_taps(int geometry);
// Whether the weight gradient wants x with channels outermost (below).
int fm_direct_weight_grad_wants_x_by_channel(int geometry);

// One call's part of a convolution: the layer (geometry and channels, both multiples of 16),
// how many images the pointers passed with it hold (callers split over images by offsetting
// them), and the 16-channel blocks block_begin..<block_end it computes (callers split over
// threads by blocks): blocks of out channels for the forward pass, the weight gradient and
// packing, blocks of in channels for the input gradient and transposed packing.
typedef struct {
    int geometry;
    int images, in_channels, out_channels;
    int block_begin, block_end;
} fm_direct_call;

// Weights [out][in][taps] -> packed[ob][in][taps][16] (blocks of out channels), or with
// `transposed` -> packed[ib][out][taps][16] (blocks of in channels, for the input gradient); the
// call's first block goes to the start of `packed`.
void fm_direct_pack(fm_direct_call call, int transposed, const float *w, float *packed);
// The inverse of the untransposed packing, for the call's blocks of out channels.
void fm_direct_unpack(fm_direct_call call, const float *packed, float *w);

// y [n][out][out plane] = conv(x [n][in][in plane]), `packed` holding the call's blocks (as
// fm_direct_pack writes them for the same range).
void fm_direct_forward(fm_direct_call call, const float *x, const float *packed, float *y);
// dx [n][in][in plane] = conv^T(dy [n][out][out plane]) with transposed packing, `packed_t`
// holding the call's blocks of in channels.
void fm_direct_input_grad(fm_direct_call call, const float *dy, const float *packed_t, float *dx);
// fm_direct_weight_grad's operands for images image_begin..<image_end of the call's images:
// dy [n][out][out plane] -> dy_b[ob][n][out pixel][16], and, where x_t is given,
// x [n][in][in plane] -> x_t[in][n][in plane]; with `stream`, x_t is written around the caches
// (non-temporal stores, where in plane is a multiple of 16; x_t 64-byte aligned).
void fm_direct_weight_grad_operands(fm_direct_call call, int image_begin, int image_end, int stream, const float *dy,
                                    float *dy_b, const float *x, float *x_t);
// packed_grad[ob][in][taps][16] = sum over the call's images and pixels of dy_b x x, where
// dy_b[ob][n][out pixel][16] is dy in 16-channel blocks and x is the input with channels
// outermost [in][n][in pixel] where fm_direct_weight_grad_wants_x_by_channel says so (the 3x3
// geometries but 48x48 stride 1), else in its own layout [n][in][in pixel]; for the call's
// blocks of out channels and in channels in_begin..<in_end (even bounds).
void fm_direct_weight_grad(fm_direct_call call, int in_begin, int in_end, const float *x, const float *dy_b,
                           float *packed_grad);
#endif
