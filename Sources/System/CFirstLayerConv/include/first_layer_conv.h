#ifndef FACEMINE_FIRST_LAYER_CONV_H
#define FACEMINE_FIRST_LAYER_CONV_H
// One-channel first layers (MyCNN's and the small and medium stems' first convolution): 3x3, padding 1, stride 1, 48x48 planes, out
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
#endif
