#ifndef FACEMINE_STEM_CONV_H
#define FACEMINE_STEM_CONV_H
// The imagenet stem's convolution: one channel, 7x7, stride 2, padding 3, 48x48 -> 24x24, out
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
#endif
