#include "ImageCodecs.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

static int fail(char *error, size_t error_size, const char *message) {
    if (error && error_size > 0) snprintf(error, error_size, "%s", message);
    return -1;
}

void fm_free(void *pointer) { free(pointer); }

/* ---- PNG ---------------------------------------------------------------------------- */

static int decode_png(const unsigned char *data, size_t size, int channels, unsigned char **out, int *width,
                      int *height, char *error, size_t error_size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) return fail(error, error_size, image.message);
    if (image.width == 0 || image.height == 0 || image.width > FM_MAX_IMAGE_SIDE || image.height > FM_MAX_IMAGE_SIDE) {
        png_image_free(&image);
        return fail(error, error_size, "PNG size is outside 1..8192 pixels per side");
    }
    /* Colour is read as RGB and weighted 0.299 / 0.587 / 0.114 on the encoded values, as PIL's
       convert("L") and torchvision's Grayscale do; libpng's own gray conversion works in linear
       light and would give other values than the Python pipelines facemine is compared with. */
    int colour = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
    image.format = colour || channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    size_t count = (size_t)image.width * image.height;
    unsigned char *decoded = malloc(PNG_IMAGE_SIZE(image));
    if (!decoded) {
        png_image_free(&image);
        return fail(error, error_size, "out of memory decoding PNG");
    }
    if (!png_image_finish_read(&image, NULL, decoded, 0, NULL)) {
        free(decoded);
        return fail(error, error_size, image.message);
    }
    unsigned char *pixels = decoded;
    if (colour && channels == 1) {
        pixels = malloc(count);
        if (!pixels) {
            free(decoded);
            return fail(error, error_size, "out of memory decoding PNG");
        }
        for (size_t i = 0; i < count; i++) {
            const unsigned char *p = decoded + 3 * i;
            pixels[i] = (unsigned char)((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
        }
        free(decoded);
    }
    *out = pixels;
    *width = (int)image.width;
    *height = (int)image.height;
    return 0;
}

int fm_encode_png(const unsigned char *pixels, int width, int height, int channels, unsigned char **out,
                  size_t *out_size, char *error, size_t error_size) {
    if (channels != 1 && channels != 3) return fail(error, error_size, "PNG encoding takes 1 or 3 channels");
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    png_alloc_size_t size = 0;
    if (!png_image_write_get_memory_size(image, size, 0, pixels, 0, NULL))
        return fail(error, error_size, image.message);
    unsigned char *buffer = malloc(size);
    if (!buffer) return fail(error, error_size, "out of memory encoding PNG");
    if (!png_image_write_to_memory(&image, buffer, &size, 0, pixels, 0, NULL)) {
        free(buffer);
        return fail(error, error_size, image.message);
    }
    *out = buffer;
    *out_size = size;
    return 0;
}

/* ---- JPEG --------------------------------------------------------------------------- */

struct fm_jpeg_error {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void jpeg_fail(j_common_ptr cinfo) {
    struct fm_jpeg_error *e = (struct fm_jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->message);
    longjmp(e->jump, 1);
}

/* Warnings (such as "Premature end of JPEG file") are kept, not printed: a truncated file
   decodes to a partly gray image with only a warning, which facemine treats as an error. */
static void jpeg_warning(j_common_ptr cinfo, int level) {
    if (level < 0) {
        struct fm_jpeg_error *e = (struct fm_jpeg_error *)cinfo->err;
        (*cinfo->err->format_message)(cinfo, e->message);
        cinfo->err->num_warnings++;
    }
}

static int decode_jpeg(const unsigned char *data, size_t size, int channels, unsigned char **out, int *width,
                       int *height, char *error, size_t error_size) {
    struct jpeg_decompress_struct cinfo;
    struct fm_jpeg_error jerr;
    unsigned char *volatile pixels = NULL;
    memset(&jerr, 0, sizeof jerr);
    cinfo.err = jpeg_std_error(&jerr.manager);
    jerr.manager.error_exit = jpeg_fail;
    jerr.manager.emit_message = jpeg_warning;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return fail(error, error_size, jerr.message);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.image_width == 0 || cinfo.image_height == 0 || cinfo.image_width > FM_MAX_IMAGE_SIDE ||
        cinfo.image_height > FM_MAX_IMAGE_SIDE) {
        jpeg_destroy_decompress(&cinfo);
        return fail(error, error_size, "JPEG size is outside 1..8192 pixels per side");
    }
    cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    size_t w = cinfo.output_width, h = cinfo.output_height;
    pixels = malloc(w * h * channels);
    if (!pixels) {
        jpeg_destroy_decompress(&cinfo);
        return fail(error, error_size, "out of memory decoding JPEG");
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * w * channels;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    long warnings = jerr.manager.num_warnings;
    jpeg_destroy_decompress(&cinfo);
    if (warnings > 0) {
        free(pixels);
        return fail(error, error_size, jerr.message[0] ? jerr.message : "corrupt JPEG data");
    }
    *out = pixels;
    *width = (int)w;
    *height = (int)h;
    return 0;
}

int fm_encode_jpeg(const unsigned char *pixels, int width, int height, int channels, int quality, unsigned char **out,
                   size_t *out_size, char *error, size_t error_size) {
    if (channels != 1 && channels != 3) return fail(error, error_size, "JPEG encoding takes 1 or 3 channels");
    struct jpeg_compress_struct cinfo;
    struct fm_jpeg_error jerr;
    unsigned char *buffer = NULL;
    unsigned long size = 0;
    memset(&jerr, 0, sizeof jerr);
    cinfo.err = jpeg_std_error(&jerr.manager);
    jerr.manager.error_exit = jpeg_fail;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return fail(error, error_size, jerr.message);
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &buffer, &size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * (size_t)width * (size_t)channels);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = buffer;
    *out_size = size;
    return 0;
}

/* ---- either ------------------------------------------------------------------------- */

static int decode(const unsigned char *data, size_t size, int channels, unsigned char **out, int *width, int *height,
                  char *error, size_t error_size) {
    static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (size >= 8 && memcmp(data, png_signature, 8) == 0)
        return decode_png(data, size, channels, out, width, height, error, error_size);
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        return decode_jpeg(data, size, channels, out, width, height, error, error_size);
    return fail(error, error_size, "not a PNG or JPEG image");
}

int fm_decode_gray(const unsigned char *data, size_t size, unsigned char **out, int *width, int *height, char *error,
                   size_t error_size) {
    return decode(data, size, 1, out, width, height, error, error_size);
}

int fm_decode_rgb(const unsigned char *data, size_t size, unsigned char **out, int *width, int *height, char *error,
                  size_t error_size) {
    return decode(data, size, 3, out, width, height, error, error_size);
}
