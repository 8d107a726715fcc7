// fuzz_mask.cpp — libFuzzer harness: mask specs and mask files. The first
// byte chooses: a spec string (center, rect:x,y,w,h, a name) drawn on a
// 64x48 image, or the rest as a mask file fitted to a 64x48 image.
#include <opencv2/core.hpp>

#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "ctxenc/masks.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const cv::Size image(64, 48);
  try {
    if (data[0] & 1) {
      const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
      const ctxenc::MaskSpec spec = ctxenc::parse_mask_spec(text);
      if (spec.kind == ctxenc::MaskSpec::Kind::Rect) {
        const cv::Mat m = ctxenc::rect_mask(spec.rect, image.width, image.height);
        if (m.size() != image || cv::countNonZero(m) == 0) __builtin_trap();
      }
    } else {
      ctxenc::fuzz::MemFile file(data + 1, size - 1);
      const cv::Mat m = ctxenc::load_mask(file.path(), /*max_pixels=*/4'000'000);
      const cv::Mat fitted = ctxenc::fit_mask(m, image, "fuzz");
      if (fitted.size() != image || fitted.type() != CV_8UC1) __builtin_trap();
    }
  } catch (const ctxenc::Error&) {
  }
  return 0;
}
