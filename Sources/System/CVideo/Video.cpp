// OpenCV's VideoCapture and VideoWriter behind the C API of Video.h.
#include "Video.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

struct fm_video {
    cv::VideoCapture capture;
    cv::Mat frame;
};

struct fm_video_writer {
    cv::VideoWriter writer;
    int width, height;
};

static void report(char *error, size_t size, const std::string &message) {
    if (error && size) std::snprintf(error, size, "%s", message.c_str());
}

static void copy_rows(const cv::Mat &m, uint8_t *out) {
    size_t row = (size_t)m.cols * m.channels();
    for (int y = 0; y < m.rows; y++) std::copy(m.ptr<uint8_t>(y), m.ptr<uint8_t>(y) + row, out + (size_t)y * row);
}

fm_video *fm_video_open(const char *path, char *error, size_t error_size) {
    try {
        auto *v = new fm_video();
        if (!v->capture.open(path, cv::CAP_ANY) || !v->capture.isOpened()) {
            report(error, error_size, "cannot open it as a video (not a video, or a codec OpenCV's video I/O lacks)");
            delete v;
            return nullptr;
        }
        return v;
    } catch (const std::exception &e) {
        report(error, error_size, e.what());
        return nullptr;
    }
}

void fm_video_close(fm_video *video) { delete video; }
int fm_video_width(const fm_video *video) { return (int)video->capture.get(cv::CAP_PROP_FRAME_WIDTH); }
int fm_video_height(const fm_video *video) { return (int)video->capture.get(cv::CAP_PROP_FRAME_HEIGHT); }
double fm_video_fps(const fm_video *video) { return video->capture.get(cv::CAP_PROP_FPS); }

long fm_video_frame_count(const fm_video *video) {
    double n = video->capture.get(cv::CAP_PROP_FRAME_COUNT);
    return n > 0 ? (long)n : -1;
}

int fm_video_next(fm_video *video, uint8_t *gray, uint8_t *rgb) {
    try {
        if (!video->capture.read(video->frame) || video->frame.empty()) return 0;
        cv::Mat g, c;
        if (video->frame.channels() == 1) {
            g = video->frame;
            if (rgb) cv::cvtColor(video->frame, c, cv::COLOR_GRAY2RGB);
        } else {
            cv::cvtColor(video->frame, g, cv::COLOR_BGR2GRAY);
            if (rgb) cv::cvtColor(video->frame, c, cv::COLOR_BGR2RGB);
        }
        copy_rows(g, gray);
        if (rgb) copy_rows(c, rgb);
        return 1;
    } catch (const std::exception &) { return 0; }
}

fm_video_writer *fm_video_writer_open(const char *path, int width, int height, double fps, char *error,
                                      size_t error_size) {
    try {
        std::string p(path);
        std::string ext = p.size() >= 4 ? p.substr(p.size() - 4) : "";
        std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
        int fourcc =
            ext == ".avi" ? cv::VideoWriter::fourcc('M', 'J', 'P', 'G') : cv::VideoWriter::fourcc('m', 'p', '4', 'v');
        auto *w = new fm_video_writer();
        w->width = width;
        w->height = height;
        if (!w->writer.open(path, fourcc, fps > 0 ? fps : 25, cv::Size(width, height), true) || !w->writer.isOpened()) {
            report(error, error_size,
                   "cannot write a video there (no encoder for its extension, or the folder is missing)");
            delete w;
            return nullptr;
        }
        return w;
    } catch (const std::exception &e) {
        report(error, error_size, e.what());
        return nullptr;
    }
}

int fm_video_writer_write(fm_video_writer *writer, const uint8_t *rgb) {
    try {
        cv::Mat frame(writer->height, writer->width, CV_8UC3, const_cast<uint8_t *>(rgb)), bgr;
        cv::cvtColor(frame, bgr, cv::COLOR_RGB2BGR);
        writer->writer.write(bgr);
        return 0;
    } catch (const std::exception &) { return -1; }
}

void fm_video_writer_close(fm_video_writer *writer) { delete writer; }
