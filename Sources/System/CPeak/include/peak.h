#ifndef FACEMINE_PEAK_H
#define FACEMINE_PEAK_H
// The CPU's FP32 peak, measured: a loop of independent fused multiply-adds on the widest
// vectors the CPU has, enough of them in flight to hide the FMA latency on every pipe.
// Returns the FLOPs done (2 per lane per FMA); `sink` keeps the compiler from dropping work.
double fm_fma_peak_loop(long iterations, float *sink);
// Lanes per FMA the loop uses here: 16 (AVX-512), 8 (AVX2 + FMA) or 0 (neither: no measurement).
int fm_fma_lanes(void);
// Memory bandwidth, measured: `threads` threads, started together, each copy their slice of
// n floats from src to dst; returns the seconds from the start until the last one finished.
// Bytes moved count as STREAM counts a copy (read + write: 8 n).
double fm_stream_copy_seconds(float *dst, const float *src, long n, int threads);
#endif
