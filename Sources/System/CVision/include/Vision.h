// What facemine needs from OpenCV, as plain C: cascade face and eye detection, the crop that
// turns a found face into a training-style 48x48 face, and boxes drawn on a photo. Errors come
// back as messages in a caller's buffer, never as C++ exceptions.
#ifndef FACEMINE_VISION_H
#define FACEMINE_VISION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A face found in an image, in its pixel coordinates; the eye centres only when `has_eyes`.
typedef struct {
    int x, y, width, height;
    int has_eyes;
    float left_eye_x, left_eye_y; // the eye on the image's left
    float right_eye_x, right_eye_y;
} fm_face;

typedef struct fm_detector fm_detector;

/// Loads the frontal-face and eye cascades (OpenCV's XML files). NULL, with the reason in
/// `error`, when either cannot be read.
fm_detector *fm_detector_create(const char *face_cascade, const char *eye_cascade, char *error, size_t error_size);
void fm_detector_destroy(fm_detector *detector);

/// Faces of at least `min_face` pixels in a row-major 8-bit gray image, sorted left to right,
/// with their eyes where both are found. Writes at most `capacity`; returns how many were found,
/// or -1 with the reason in `error`.
int fm_detect_faces(fm_detector *detector, const uint8_t *gray, int width, int height, int min_face, fm_face *faces,
                    int capacity, char *error, size_t error_size);

/// The face as a `side` x `side` gray crop: the image turned about the box's centre so that the
/// eyes are level (when the face has them), a square `1 + 2 x margin` times the box's width
/// around its centre (edge pixels repeated outside the image), shrunk with area averaging.
int fm_crop_face(const uint8_t *gray, int width, int height, const fm_face *face, float margin, int side, uint8_t *out,
                 char *error, size_t error_size);

/// Draws each face's box with its label above it into an interleaved 8-bit RGB image, in place.
int fm_draw_faces(uint8_t *rgb, int width, int height, const fm_face *faces, const char *const *labels, int count,
                  char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
