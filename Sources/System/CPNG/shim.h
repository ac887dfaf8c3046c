// libpng's simplified API (png_image): decode any PNG to 8-bit gray, encode gray PNGs.
#include <png.h>
