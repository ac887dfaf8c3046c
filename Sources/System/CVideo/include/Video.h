// Video files through OpenCV's video I/O, as plain C. This target is built as a library of its
// own (libFacemineVideo.so) that facemine loads only when it is given a video: OpenCV's video
// I/O brings FFmpeg, GStreamer and with them some 240 shared libraries, which every start of
// facemine would otherwise load. Errors come back as messages, never as C++ exceptions.
#ifndef FACEMINE_VIDEO_H
#define FACEMINE_VIDEO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fm_video fm_video;

/// Opens a video file for reading. NULL with the reason.
fm_video *fm_video_open(const char *path, char *error, size_t error_size);
void fm_video_close(fm_video *video);
int fm_video_width(const fm_video *video);
int fm_video_height(const fm_video *video);
/// Frames per second as the file states it (0 when it does not).
double fm_video_fps(const fm_video *video);
/// The frame count the file states (an estimate for some containers; -1 when unknown).
long fm_video_frame_count(const fm_video *video);
/// The next frame, as gray (width x height bytes) and, when `rgb` is not NULL, as interleaved
/// RGB. 1 when a frame was read, 0 at the end of the video.
int fm_video_next(fm_video *video, uint8_t *gray, uint8_t *rgb);

typedef struct fm_video_writer fm_video_writer;

/// A video to write: Motion-JPEG in .avi, MPEG-4 part 2 otherwise. NULL with the reason.
fm_video_writer *fm_video_writer_open(const char *path, int width, int height, double fps, char *error,
                                      size_t error_size);
/// Appends an interleaved RGB frame of the writer's size. 0, or -1.
int fm_video_writer_write(fm_video_writer *writer, const uint8_t *rgb);
void fm_video_writer_close(fm_video_writer *writer);

#ifdef __cplusplus
}
#endif

#endif
