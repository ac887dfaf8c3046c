// Image decoding and encoding for facemine through libpng and libjpeg.
//
// This thin C layer exists because libjpeg reports errors by longjmp, which Swift code cannot
// catch; every function here returns 0 on success, or writes a one-line message into `error`
// and returns -1. Buffers returned through `out` are malloc'ed: release them with fm_free.
#ifndef FACEMINE_IMAGE_CODECS_H
#define FACEMINE_IMAGE_CODECS_H

#include <stddef.h>

/// Largest image accepted, in pixels per side: protects against bombs that declare huge sizes.
#define FM_MAX_IMAGE_SIDE 8192

/// Decodes PNG or JPEG bytes (told apart by their signature) to 8-bit grayscale, converting
/// colour to gray. Truncated or corrupt data is an error, never a partly gray image.
int fm_decode_gray(const unsigned char *data, size_t size, unsigned char **out, int *width, int *height, char *error,
                   size_t error_size);
/// The same, to interleaved 8-bit RGB (gray images repeated into the three channels).
int fm_decode_rgb(const unsigned char *data, size_t size, unsigned char **out, int *width, int *height, char *error,
                  size_t error_size);

/// Encodes 8-bit pixels with 1 (gray) or 3 (RGB) interleaved channels.
int fm_encode_png(const unsigned char *pixels, int width, int height, int channels, unsigned char **out,
                  size_t *out_size, char *error, size_t error_size);
int fm_encode_jpeg(const unsigned char *pixels, int width, int height, int channels, int quality, unsigned char **out,
                   size_t *out_size, char *error, size_t error_size);

void fm_free(void *pointer);

#endif
