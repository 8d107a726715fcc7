// ctxenc/image_io.h — reading and writing user images and masks with clear
// errors: header probing (size known before decoding), pixel limits, RGB
// conversion, and atomic writes. Images are cv::Mat CV_8UC3 in RGB order.
#pragma once
#include <cstdint>
#include <string>

#include <opencv2/core.hpp>

namespace ctxenc {

struct ImageInfo {
  std::string format;  // "png", "jpeg", "webp", "bmp" or "other"
  int width = 0;
  int height = 0;
};

// Default refusal limit: 100 megapixels (a 10000x10000 image).
constexpr int64_t kDefaultMaxPixels = 100'000'000;

// True for the extensions ctxenc reads in folders: .png .jpg .jpeg .webp .bmp (any case).
bool has_image_extension(const std::string& path);

// Reads only the file header. Throws InputError if missing or not an image.
ImageInfo probe_image(const std::string& path);

// Decodes to RGB (grey is expanded, alpha dropped, EXIF rotation applied).
// Refuses images above max_pixels (TooLargeError) before decoding them.
cv::Mat load_image_rgb(const std::string& path, int64_t max_pixels = kDefaultMaxPixels);

// Decodes a mask: any image, converted to grey; >= 127 is hole (255), else 0.
cv::Mat load_mask(const std::string& path, int64_t max_pixels = kDefaultMaxPixels);

// The part of img under rect r, which may reach past the image border: the
// outside is filled by reflection (reflect, images) or with zeros (masks).
cv::Mat crop_padded(const cv::Mat& img, const cv::Rect& r, bool reflect = true);

// Encodes by extension (.png, .jpg, .jpeg, .webp, .bmp) and writes atomically.
// Accepts CV_8UC3 RGB or CV_8UC1.
void save_image(const std::string& path, const cv::Mat& image);

}  // namespace ctxenc
