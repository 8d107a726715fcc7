// image_io.cpp — header probing, decoding and atomic encoding of images, and
// folders of images listed and matched by name.
#include "ctxenc/image_io.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ctxenc/errors.h"

namespace ctxenc {
namespace fs = std::filesystem;
namespace {

uint32_t be32(const unsigned char* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }
uint16_t be16(const unsigned char* p) { return uint16_t((p[0] << 8) | p[1]); }
uint32_t le24(const unsigned char* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16); }
uint16_t le16(const unsigned char* p) { return uint16_t(p[0] | (p[1] << 8)); }
int32_t le32s(const unsigned char* p) { return int32_t(uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24)); }

void check_readable(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError("'" + path + "' does not exist");
  if (fs::is_directory(path, ec)) throw InputError("'" + path + "' is a directory, not an image");
}

// JPEG: walk the marker segments up to the first SOFn frame header.
bool probe_jpeg(std::istream& in, ImageInfo& info) {
  in.seekg(2);
  unsigned char seg[9];
  while (in.read(reinterpret_cast<char*>(seg), 4)) {
    if (seg[0] != 0xFF) return false;
    const unsigned marker = seg[1];
    if (marker == 0xFF) { in.seekg(-3, std::ios::cur); continue; }  // fill bytes
    const unsigned len = be16(seg + 2);
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (!in.read(reinterpret_cast<char*>(seg), 5)) return false;
      info.height = be16(seg + 1);
      info.width = be16(seg + 3);
      return true;
    }
    if (len < 2) return false;
    in.seekg(len - 2, std::ios::cur);
  }
  return false;
}

}  // namespace

bool has_image_extension(const std::string& path) {
  static const char* const kExtensions[] = {".png", ".jpg", ".jpeg", ".webp", ".bmp"};
  std::string e = fs::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return std::find(std::begin(kExtensions), std::end(kExtensions), e) != std::end(kExtensions);
}

std::vector<std::string> list_images(const std::string& folder, bool recursive) {
  std::vector<std::string> out;
  std::error_code ec;
  auto take = [&](const fs::directory_entry& e) {
    if (e.is_regular_file(ec) && has_image_extension(e.path().string())) out.push_back(e.path().string());
  };
  if (recursive) {
    for (auto it = fs::recursive_directory_iterator(
             folder, fs::directory_options::follow_directory_symlink | fs::directory_options::skip_permission_denied,
             ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      take(*it);
  } else {
    for (auto it = fs::directory_iterator(folder, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
      take(*it);
  }
  std::sort(out.begin(), out.end());
  return out;
}

ImageFolderIndex::ImageFolderIndex(const std::string& folder) : folder_(folder) {
  std::error_code ec;
  fs::path root = fs::absolute(folder, ec);
  root = (ec ? fs::path(folder) : root).lexically_normal();
  for (const std::string& file : list_images(root.string())) {
    fs::path rel = fs::path(file).lexically_relative(root);
    rel.replace_extension();
    by_rel_.emplace(rel.generic_string(), file);
    by_stem_[fs::path(file).stem().string()].push_back(file);
  }
}

std::string ImageFolderIndex::find(const std::string& rel) const {
  if (auto it = by_rel_.find(rel); it != by_rel_.end()) return it->second;
  const std::string stem = fs::path(rel).filename().string();
  if (auto it = by_stem_.find(stem); it != by_stem_.end() && it->second.size() == 1) return it->second.front();
  return "";
}

// The header of an image read from `in`; `path` names it in messages.
static ImageInfo probe_stream(std::istream& in, const std::string& path) {
  unsigned char h[32] = {0};
  in.read(reinterpret_cast<char*>(h), sizeof(h));
  const auto got = in.gcount();
  in.clear();
  ImageInfo info;
  if (got >= 24 && std::memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0) {
    info = {"png", int(be32(h + 16)), int(be32(h + 20))};
  } else if (got >= 4 && h[0] == 0xFF && h[1] == 0xD8) {
    info.format = "jpeg";
    if (!probe_jpeg(in, info)) throw InputError("'" + path + "' is a damaged JPEG (no frame header)");
  } else if (got >= 30 && std::memcmp(h, "RIFF", 4) == 0 && std::memcmp(h + 8, "WEBP", 4) == 0) {
    info.format = "webp";
    if (std::memcmp(h + 12, "VP8 ", 4) == 0) {
      info.width = le16(h + 26) & 0x3FFF;
      info.height = le16(h + 28) & 0x3FFF;
    } else if (std::memcmp(h + 12, "VP8L", 4) == 0) {
      const uint32_t bits = uint32_t(h[21]) | (uint32_t(h[22]) << 8) | (uint32_t(h[23]) << 16) | (uint32_t(h[24]) << 24);
      info.width = int(bits & 0x3FFF) + 1;
      info.height = int((bits >> 14) & 0x3FFF) + 1;
    } else if (std::memcmp(h + 12, "VP8X", 4) == 0) {
      info.width = int(le24(h + 24)) + 1;
      info.height = int(le24(h + 27)) + 1;
    } else {
      throw InputError("'" + path + "' is a WebP file of an unknown kind");
    }
  } else if (got >= 26 && h[0] == 'B' && h[1] == 'M') {
    info = {"bmp", le32s(h + 18), std::abs(le32s(h + 22))};
  } else {
    // Only formats whose header gives the size are read, so that the pixel
    // limit holds before decoding; OpenCV's other readers (DICOM through GDAL,
    // JPEG 2000, ...) are never handed a user's file (one aborted on a fuzzed
    // file, docs/reliability.md).
    throw InputError("'" + path + "' is not an image ctxenc reads (PNG, JPEG, WebP or BMP expected)");
  }
  if (info.width <= 0 || info.height <= 0)
    throw InputError("'" + path + "' has an invalid size in its header");
  return info;
}

ImageInfo probe_image(const std::string& path) {
  check_readable(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot open '" + path + "': " + std::strerror(errno));
  return probe_stream(in, path);
}

static void check_pixels(const ImageInfo& info, const std::string& path, int64_t max_pixels) {
  if (int64_t(info.width) * info.height > max_pixels)
    throw TooLargeError("'" + path + "' is " + std::to_string(info.width) + "x" + std::to_string(info.height) +
                        ", above the limit of " + std::to_string(max_pixels) + " pixels (max_pixels)");
}

ImageInfo probe_image(const std::string& path, int64_t max_pixels) {
  const ImageInfo info = probe_image(path);
  check_pixels(info, path, max_pixels);
  return info;
}

ImageInfo probe_image_bytes(const std::string& bytes, const std::string& name, int64_t max_pixels) {
  std::istringstream in(bytes);
  const ImageInfo info = probe_stream(in, name);
  check_pixels(info, name, max_pixels);
  return info;
}

// Runs an OpenCV decoder on an image whose header passed the pixel limit: its
// exceptions and empty results become InputError, a decoded size past the
// limit TooLargeError. Shared by files (imread) and uploads (imdecode).
template <class Decode>
static cv::Mat decode_guarded(const std::string& name, const ImageInfo& info, int64_t max_pixels, Decode decode) {
  cv::Mat m;
  try {
    m = decode();
  } catch (const cv::Exception& e) {
    throw InputError("cannot decode '" + name + "': " + e.err);
  }
  if (m.empty()) throw InputError("cannot decode '" + name + "' (corrupt or unsupported " + info.format + ")");
  if (int64_t(m.cols) * m.rows > max_pixels)
    throw TooLargeError("'" + name + "' is above the limit of " + std::to_string(max_pixels) + " pixels");
  return m;
}

// Grey [H, W] -> mask, 255 = hole: pixels >= 127 are holes (as OpenCV).
static cv::Mat threshold_hole(const cv::Mat& grey) {
  cv::Mat mask;
  cv::threshold(grey, mask, 126, 255, cv::THRESH_BINARY);
  return mask;
}

static cv::Mat decode_checked(const std::string& path, int flags, int64_t max_pixels) {
  const ImageInfo info = probe_image(path, max_pixels);
  return decode_guarded(path, info, max_pixels, [&] { return cv::imread(path, flags); });
}

cv::Mat load_image_rgb(const std::string& path, int64_t max_pixels) {
  cv::Mat bgr = decode_checked(path, cv::IMREAD_COLOR, max_pixels);
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

cv::Mat load_mask(const std::string& path, int64_t max_pixels) {
  return threshold_hole(decode_checked(path, cv::IMREAD_GRAYSCALE, max_pixels));
}

// As decode_checked, from bytes in memory.
static cv::Mat decode_bytes_checked(const std::string& bytes, const std::string& name, int flags, int64_t max_pixels) {
  const ImageInfo info = probe_image_bytes(bytes, name, max_pixels);
  const cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  return decode_guarded(name, info, max_pixels, [&] { return cv::imdecode(buf, flags); });
}

cv::Mat decode_image_rgb(const std::string& bytes, const std::string& name, int64_t max_pixels) {
  cv::Mat bgr = decode_bytes_checked(bytes, name, cv::IMREAD_COLOR, max_pixels);
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

cv::Mat decode_mask(const std::string& bytes, const std::string& name, int64_t max_pixels) {
  const cv::Mat any = decode_bytes_checked(bytes, name, cv::IMREAD_UNCHANGED, max_pixels);
  cv::Mat grey;
  if (any.channels() == 4) {
    cv::Mat alpha;
    cv::extractChannel(any, alpha, 3);
    if (alpha.depth() != CV_8U) alpha.convertTo(alpha, CV_8U, 1.0 / 257.0);
    double lo = 0;
    cv::minMaxLoc(alpha, &lo);
    if (lo < 255) return threshold_hole(alpha);  // transparency: the alpha channel marks the hole (a canvas export)
  }
  if (any.channels() == 1) grey = any;
  else cv::cvtColor(any, grey, any.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  if (grey.depth() != CV_8U) grey.convertTo(grey, CV_8U, 1.0 / 257.0);
  return threshold_hole(grey);
}

// RGB or grey -> the bytes of an `ext` file; `what` names it in errors.
static std::string encode_as(const cv::Mat& image, const std::string& ext, const std::vector<int>& params,
                             const std::string& what) {
  // A new Mat for the BGR copy: converting into a header that shares the
  // caller's pixels would swap their channels in place.
  cv::Mat out;
  if (image.channels() == 3) cv::cvtColor(image, out, cv::COLOR_RGB2BGR);
  else out = image;
  std::vector<uchar> buf;
  bool ok = false;
  try {
    ok = cv::imencode(ext, out, buf, params);
  } catch (const cv::Exception& e) {
    throw OutputError("cannot encode " + what + ": " + e.err);
  }
  if (!ok) throw OutputError("cannot encode " + what);
  return std::string(buf.begin(), buf.end());
}

std::string encode_png(const cv::Mat& image) { return encode_as(image, ".png", {}, "PNG"); }

void save_image(const std::string& path, const cv::Mat& image) {
  if (!has_image_extension(path))
    throw OutputError("cannot write '" + path + "': unknown image extension (use .png, .jpg, .webp or .bmp)");
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  std::vector<int> params;
  if (ext == ".jpg" || ext == ".jpeg") params = {cv::IMWRITE_JPEG_QUALITY, 95};
  write_file_atomic(path, encode_as(image, ext, params, "'" + path + "'"));
}

}  // namespace ctxenc
