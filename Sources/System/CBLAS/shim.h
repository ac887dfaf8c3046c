// OpenBLAS's CBLAS interface plus its thread-count controls (openblas_set_num_threads),
// which the CPU backend needs so BLAS and its own threads never oversubscribe the cores.
#include <cblas.h>
