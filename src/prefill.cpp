// prefill.cpp — classical hole pre-fill for the generator's input.
#include "ctxenc/prefill.h"

#include <opencv2/photo.hpp>

namespace ctxenc {

cv::Mat prefill_holes(const cv::Mat& rgb, const cv::Mat& hole, HoleFill fill) {
  if (fill == HoleFill::Mean || cv::countNonZero(hole) == 0) return rgb;
  cv::Mat out;
  cv::inpaint(rgb, hole, out, /*inpaintRadius=*/5.0, cv::INPAINT_TELEA);
  return out;
}

}  // namespace ctxenc
