// inpaint/blend.h — internal, torch-free: what surrounds the network's
// prediction in a photo: the holes found once as connected regions, a smooth
// provisional fill (push-pull) so hole content never leaks into a window's
// context, and the seam treatments (feather, Poisson), each on one hole's
// neighbourhood so the cost follows the holes, not the photo.
// Images CV_8UC3 RGB; holes CV_8UC1, non-zero = hole.
#pragma once
#include <vector>

#include <opencv2/core.hpp>

#include "ctxenc/inpaint.h"

namespace ctxenc {

// The 8-connected hole regions of a mask.
struct HoleRegions {
  cv::Mat labels;              // CV_32S, region i + 1 on its pixels, 0 on known ones
  std::vector<cv::Rect> boxes;  // bounding box of region i + 1
};
HoleRegions find_hole_regions(const cv::Mat& hole);

// Smooth provisional fill of hole pixels (push-pull over an image pyramid);
// known pixels are rgb's. Big photos are filled at <= 1024 px and scaled back:
// a 4000x3000 photo then needs ~20 MB here instead of ~600 MB.
cv::Mat push_pull_fill(const cv::Mat& rgb, const cv::Mat& hole);

// `filled` with each hole region blended into its surroundings (Blend::None:
// filled as it is). Reads `original` only at known pixels; writes only hole
// pixels. `regions` are find_hole_regions(hole).
cv::Mat blend_holes(Blend blend, const cv::Mat& original, const cv::Mat& filled, const cv::Mat& hole,
                    const HoleRegions& regions);

}  // namespace ctxenc
