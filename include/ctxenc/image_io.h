// ctxenc/image_io.h — the files a user gives and gets: images and masks read
// with clear errors (header probing, so the size is known before decoding, and
// pixel limits), folders of images listed and matched by name, and every file
// written atomically. Images are cv::Mat CV_8UC3 in RGB order.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "ctxenc/errors.h"

namespace ctxenc {

struct ImageInfo {
  std::string format;  // "png", "jpeg", "webp" or "bmp": the formats ctxenc reads
  int width = 0;
  int height = 0;
};

// Default refusal limit: 100 megapixels (a 10000x10000 image).
constexpr int64_t kDefaultMaxPixels = 100'000'000;

// True for the extensions ctxenc reads in folders and writes: .png .jpg .jpeg .webp .bmp (any case).
bool has_image_extension(const std::string& path);

// The image files (has_image_extension) in a folder, sorted; `recursive` also
// those of its subfolders (symlinks followed, unreadable folders skipped).
// A missing folder gives an empty list.
std::vector<std::string> list_images(const std::string& folder, bool recursive = true);

// A folder of images (masks, predictions) matched to other images by name,
// the one rule of `ctxenc eval` and batch `ctxenc inpaint`: an image whose
// path relative to its own folder is "a/b.jpg" takes the file "a/b.*" of this
// folder, else the one file "b.*" anywhere in it (any image extension).
class ImageFolderIndex {
 public:
  explicit ImageFolderIndex(const std::string& folder);
  // rel: the image's relative path without extension, '/'-separated ("a/b").
  // Returns the matching file, or "" when none (or only an ambiguous stem) matches.
  std::string find(const std::string& rel) const;
  const std::string& folder() const { return folder_; }

 private:
  std::string folder_;
  std::map<std::string, std::string> by_rel_;                // "a/b" -> file
  std::map<std::string, std::vector<std::string>> by_stem_;  // "b" -> files
};

// Reads only the file header. Throws InputError if missing, not an image, or
// of another format (OpenCV's other readers are never given a user's file).
ImageInfo probe_image(const std::string& path);
// The same, and throws TooLargeError when the header declares more than max_pixels.
ImageInfo probe_image(const std::string& path, int64_t max_pixels);

// Decodes to RGB (grey is expanded, alpha dropped, EXIF rotation applied).
// Refuses images above max_pixels (TooLargeError) before decoding them.
cv::Mat load_image_rgb(const std::string& path, int64_t max_pixels = kDefaultMaxPixels);

// Decodes a mask: any image, converted to grey; >= 127 is hole (255), else 0.
cv::Mat load_mask(const std::string& path, int64_t max_pixels = kDefaultMaxPixels);

// The same for an image held in memory (an upload); `name` names it in messages.
ImageInfo probe_image_bytes(const std::string& bytes, const std::string& name, int64_t max_pixels);
cv::Mat decode_image_rgb(const std::string& bytes, const std::string& name, int64_t max_pixels = kDefaultMaxPixels);
// A mask in memory: >= 127 is hole, as load_mask; but an image with an alpha
// channel that is not fully opaque (what a canvas exports) is a hole where
// alpha >= 127, whatever its colour.
cv::Mat decode_mask(const std::string& bytes, const std::string& name, int64_t max_pixels = kDefaultMaxPixels);
// PNG bytes of a CV_8UC3 RGB or CV_8UC1 image; throws OutputError if it cannot.
std::string encode_png(const cv::Mat& image);

// Encodes by extension (has_image_extension) and writes atomically.
// Accepts CV_8UC3 RGB or CV_8UC1.
void save_image(const std::string& path, const cv::Mat& image);

// Writes `bytes` to `path` atomically and durably: a temp file beside it,
// fsync, rename, fsync of the folder. A crash or power cut leaves either the
// old file or the new one, never a partial file; a full disk leaves the old
// one and throws OutputError (the temp file is removed).
void write_file_atomic(const std::string& path, const std::string& bytes);

// Reads a whole file; throws the Error of code `on_error` (throw_error) if it cannot.
std::string read_file(const std::string& path, ExitCode on_error = kExitInput);

}  // namespace ctxenc
