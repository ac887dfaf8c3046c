#ifndef FACEMINE_POINTWISE_H
#define FACEMINE_POINTWISE_H
// 1x1 convolutions at a stride through the wide GEMM (PointwiseConvolution.swift): the input
// gradient's last step, dx [channels][height][width] with
// the subsampled gradient dxs [channels][out pixel] at the pixels the kernel read, zero elsewhere.
void fm_upsample_with_zeros(const float *dxs, float *dx, int channels, int height, int width, int stride);
#endif
