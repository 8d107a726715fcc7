// ctxenc/prefill.h — classical pre-fill of holes for models whose input is
// not the mean colour (ModelConfig::fill = telea). Torch-free.
#pragma once
#include <opencv2/core.hpp>

#include "ctxenc/config.h"

namespace ctxenc {

// rgb: CV_8UC3; hole: CV_8UC1, non-zero = hole. Returns rgb with the hole
// filled by OpenCV Telea (radius 5) for HoleFill::Telea, or rgb itself for Mean.
cv::Mat prefill_holes(const cv::Mat& rgb, const cv::Mat& hole, HoleFill fill);

}  // namespace ctxenc
