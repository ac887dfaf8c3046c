// OpenCV behind the C API of Vision.h. Every entry point catches OpenCV's exceptions and
// returns them as messages: a C++ exception must never unwind into Swift.
#include "Vision.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

struct fm_detector {
    cv::CascadeClassifier face, eye;
};

static void report(char *error, size_t size, const std::string &message) {
    if (error && size) std::snprintf(error, size, "%s", message.c_str());
}

fm_detector *fm_detector_create(const char *face_cascade, const char *eye_cascade, char *error, size_t error_size) {
    try {
        auto *d = new fm_detector();
        if (!d->face.load(face_cascade)) {
            report(error, error_size, std::string("cannot load the face cascade ") + face_cascade);
            delete d;
            return nullptr;
        }
        if (!d->eye.load(eye_cascade)) {
            report(error, error_size, std::string("cannot load the eye cascade ") + eye_cascade);
            delete d;
            return nullptr;
        }
        return d;
    } catch (const std::exception &e) {
        report(error, error_size, e.what());
        return nullptr;
    }
}

void fm_detector_destroy(fm_detector *detector) { delete detector; }

/// Both eyes of a face, or none: among the eye detections in the upper part of the box, the
/// largest pair that sits side by side at an eye distance a face can have.
static void find_eyes(fm_detector *d, const cv::Mat &gray, fm_face &f) {
    f.has_eyes = 0;
    cv::Rect upper(f.x, f.y, f.width, (int)(f.height * 0.6));
    upper &= cv::Rect(0, 0, gray.cols, gray.rows);
    if (upper.width < 24 || upper.height < 12) return;
    std::vector<cv::Rect> eyes;
    int smallest = std::max(4, f.width / 10), largest = std::max(smallest + 1, f.width / 3);
    d->eye.detectMultiScale(gray(upper), eyes, 1.1, 3, 0, cv::Size(smallest, smallest), cv::Size(largest, largest));
    double best = 0;
    for (size_t i = 0; i < eyes.size(); i++) {
        for (size_t j = i + 1; j < eyes.size(); j++) {
            cv::Rect a = eyes[i], b = eyes[j];
            if (a.x > b.x) std::swap(a, b);
            double ax = upper.x + a.x + a.width / 2.0, ay = upper.y + a.y + a.height / 2.0;
            double bx = upper.x + b.x + b.width / 2.0, by = upper.y + b.y + b.height / 2.0;
            double dx = bx - ax, dy = by - ay;
            bool apart = dx > 0.25 * f.width && dx < 0.7 * f.width && std::fabs(dy) < 0.4 * dx;
            bool sides = ax < f.x + f.width / 2.0 && bx > f.x + f.width / 2.0;
            double area = a.area() + b.area();
            if (apart && sides && area > best) {
                best = area;
                f.has_eyes = 1;
                f.left_eye_x = (float)ax;
                f.left_eye_y = (float)ay;
                f.right_eye_x = (float)bx;
                f.right_eye_y = (float)by;
            }
        }
    }
}

int fm_detect_faces(fm_detector *detector, const uint8_t *gray, int width, int height, int min_face, fm_face *faces,
                    int capacity, char *error, size_t error_size) {
    try {
        cv::Mat image(height, width, CV_8UC1, const_cast<uint8_t *>(gray));
        cv::Mat equalized;
        cv::equalizeHist(image, equalized);
        std::vector<cv::Rect> found;
        detector->face.detectMultiScale(equalized, found, 1.1, 5, 0, cv::Size(min_face, min_face));
        std::sort(found.begin(), found.end(), [](const cv::Rect &a, const cv::Rect &b) { return a.x < b.x; });
        for (size_t k = 0; k < found.size() && (int)k < capacity; k++) {
            fm_face f = {found[k].x, found[k].y, found[k].width, found[k].height, 0, 0, 0, 0, 0};
            find_eyes(detector, equalized, f);
            faces[k] = f;
        }
        return (int)found.size();
    } catch (const std::exception &e) {
        report(error, error_size, e.what());
        return -1;
    }
}

int fm_crop_face(const uint8_t *gray, int width, int height, const fm_face *face, float margin, int side, uint8_t *out,
                 char *error, size_t error_size) {
    try {
        cv::Mat image(height, width, CV_8UC1, const_cast<uint8_t *>(gray));
        double cx = face->x + face->width / 2.0, cy = face->y + face->height / 2.0;
        double degrees =
            face->has_eyes
                ? std::atan2(face->right_eye_y - face->left_eye_y, face->right_eye_x - face->left_eye_x) * 180.0 / CV_PI
                : 0.0;
        int crop = std::max(1, (int)std::lround(face->width * (1.0 + 2.0 * margin)));
        // Turn about the box's centre (counter-clockwise by the eyes' slope levels them), then
        // move that centre to the middle of the crop.
        cv::Mat m = cv::getRotationMatrix2D(cv::Point2f((float)cx, (float)cy), degrees, 1.0);
        m.at<double>(0, 2) += crop / 2.0 - cx;
        m.at<double>(1, 2) += crop / 2.0 - cy;
        cv::Mat turned, small;
        cv::warpAffine(image, turned, m, cv::Size(crop, crop), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
        cv::resize(turned, small, cv::Size(side, side), 0, 0, cv::INTER_AREA);
        for (int y = 0; y < side; y++) std::copy(small.ptr<uint8_t>(y), small.ptr<uint8_t>(y) + side, out + y * side);
        return 0;
    } catch (const std::exception &e) {
        report(error, error_size, e.what());
        return -1;
    }
}

/// A box per face with its label above it (inside the image when the box touches the top).
static void draw(cv::Mat &image, const fm_face *faces, const char *const *labels, int count) {
    int thickness = std::max(2, image.cols / 400);
    double scale = std::max(0.5, image.cols / 1200.0);
    const cv::Scalar box(60, 220, 60), ink(0, 0, 0);
    for (int k = 0; k < count; k++) {
        const fm_face &f = faces[k];
        cv::rectangle(image, cv::Rect(f.x, f.y, f.width, f.height), box, thickness);
        int baseline = 0;
        cv::Size text = cv::getTextSize(labels[k], cv::FONT_HERSHEY_SIMPLEX, scale, thickness / 2 + 1, &baseline);
        int top = f.y - text.height - baseline - 4 >= 0 ? f.y - text.height - baseline - 4 : f.y;
        cv::rectangle(image, cv::Rect(f.x, top, text.width + 6, text.height + baseline + 4), box, cv::FILLED);
        cv::putText(image, labels[k], cv::Point(f.x + 3, top + text.height + 2), cv::FONT_HERSHEY_SIMPLEX, scale, ink,
                    thickness / 2 + 1, cv::LINE_AA);
    }
}

int fm_draw_faces(uint8_t *rgb, int width, int height, const fm_face *faces, const char *const *labels, int count,
                  char *error, size_t error_size) {
    try {
        cv::Mat image(height, width, CV_8UC3, rgb);
        draw(image, faces, labels, count);
        return 0;
    } catch (const std::exception &e) {
        report(error, error_size, e.what());
        return -1;
    }
}
