// io/crop.h — internal: a window of an image that may reach past its border,
// as the inpainter's context windows and the loader's whole-frame crops do.
#pragma once
#include <opencv2/core.hpp>

namespace ctxenc {

// The part of img under rect r: a copy, where r passes the border filled by
// reflection (reflect, images) or with zeros (masks).
cv::Mat crop_padded(const cv::Mat& img, const cv::Rect& r, bool reflect = true);

}  // namespace ctxenc
