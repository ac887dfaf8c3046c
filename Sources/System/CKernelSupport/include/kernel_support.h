#ifndef FACEMINE_KERNEL_SUPPORT_H
#define FACEMINE_KERNEL_SUPPORT_H
// What the CPU backend's C kernel targets share at run time: which copy of each kernel runs.
// Every kernel is compiled twice (kernel_vectors.h): for AVX-512 and for the baseline
// instruction set. The AVX-512 copy runs where the CPU has it, unless the calling thread asked
// for the baseline one, which tests do so that both copies are checked.

// Whether the CPU has the AVX-512 subsets the fast copies use (F, VL, BW, DQ) and FMA.
int fm_kernels_fast(void);
// Run the baseline copies on the calling thread (yes = 1) or not (0). Per thread: a test forcing
// the baseline must not change what a test running beside it computes (the copies round
// differently); the CPU backend's workers take the calling thread's setting at each parallel
// loop (Parallel.swift).
void fm_kernels_use_baseline(int yes);
int fm_kernels_baseline_forced(void);
// Whether calls on this thread run the AVX-512 copies now (the CPU has them, baseline not forced).
int fm_kernels_use_fast(void);
#endif
