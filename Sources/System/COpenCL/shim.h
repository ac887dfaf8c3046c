// OpenCL 1.2 is the newest version every vendor (and PoCL) implements fully; asking for it
// keeps the headers from warning about deprecated 1.x entry points.
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
