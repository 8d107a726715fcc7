// prefill.cpp — classical hole pre-fill for the generator's input.
#include "inpaint/prefill.h"

#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

#include "ctxenc/errors.h"

namespace ctxenc {

cv::Mat prefill_holes(const cv::Mat& rgb, const cv::Mat& hole, HoleFill fill) {
  if (fill == HoleFill::Mean || cv::countNonZero(hole) == 0) return rgb;
  cv::Mat out;
  cv::inpaint(rgb, hole, out, /*inpaintRadius=*/5.0, cv::INPAINT_TELEA);
  return out;
}

cv::Mat prefill_fringe(const cv::Mat& rgb, const cv::Mat& hole, int band) {
  if (band < 1) throw UsageError("prefill_fringe: band must be >= 1");
  if (cv::countNonZero(hole) == 0) return rgb;
  cv::Mat dist;  // [H, W] float: distance of each hole pixel to the nearest known pixel
  cv::distanceTransform(hole > 0, dist, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  const cv::Mat fringe = (hole > 0) & (dist <= band);
  cv::Mat out;
  cv::inpaint(rgb, fringe, out, /*inpaintRadius=*/5.0, cv::INPAINT_TELEA);
  return out;
}

}  // namespace ctxenc
