// inpaint/prefill.h — internal: classical pre-fill of holes for models whose input is
// not the mean colour (ModelConfig::fill = telea). Torch-free.
#pragma once
#include <opencv2/core.hpp>

#include "ctxenc/config.h"

namespace ctxenc {

// rgb: CV_8UC3; hole: CV_8UC1, non-zero = hole. Returns rgb with the hole
// filled by OpenCV Telea (radius 5) for HoleFill::Telea, or rgb itself for Mean.
cv::Mat prefill_holes(const cv::Mat& rgb, const cv::Mat& hole, HoleFill fill);

// Telea (radius 5) over the band of hole pixels within `band` px of the known
// pixels; deeper hole pixels keep rgb's values. Telea marches into the band
// from both of its sides, so pixels nearer than band/2 - 2 px to the known
// pixels equal a Telea fill of the whole hole, at a cost that follows the band,
// not the hole. band >= 1 (UsageError otherwise).
cv::Mat prefill_fringe(const cv::Mat& rgb, const cv::Mat& hole, int band);

}  // namespace ctxenc
