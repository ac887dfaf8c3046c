// CLBlast's C API: GEMM and strided-batched GEMM for the OpenCL backend.
#define CL_TARGET_OPENCL_VERSION 120
#include <clblast_c.h>
