// fuzz_image.cpp — libFuzzer harness: any bytes as an image file, through the
// header probe and the decoder behind the pixel limit. Only ctxenc::Error may
// come out; a crash, a leak, an over-read or a decode past the limit is a bug.
#include <opencv2/core.hpp>

#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr int64_t kLimit = 4'000'000;  // what a fuzzed image may decode to
  ctxenc::fuzz::MemFile file(data, size);
  try {
    const ctxenc::ImageInfo info = ctxenc::probe_image(file.path());
    const cv::Mat rgb = ctxenc::load_image_rgb(file.path(), kLimit);
    if (rgb.type() != CV_8UC3 || static_cast<int64_t>(rgb.total()) > kLimit) __builtin_trap();
    if (rgb.cols != info.width || rgb.rows != info.height) {
      // The header and the decoder disagree: only EXIF rotation may swap the sides.
      if (rgb.cols != info.height || rgb.rows != info.width) __builtin_trap();
    }
  } catch (const ctxenc::Error&) {
  }
  return 0;
}
