// crop.cpp — windows of an image that may reach past its border.
#include "io/crop.h"

namespace ctxenc {

cv::Mat crop_padded(const cv::Mat& img, const cv::Rect& r, bool reflect) {
  const cv::Rect inside = r & cv::Rect(0, 0, img.cols, img.rows);
  if (inside == r) return img(r).clone();
  if (inside.area() == 0) return cv::Mat(r.size(), img.type(), cv::Scalar::all(0));
  const int top = inside.y - r.y, left = inside.x - r.x;
  const int bottom = r.y + r.height - (inside.y + inside.height);
  const int right = r.x + r.width - (inside.x + inside.width);
  int border = cv::BORDER_CONSTANT;
  if (reflect) border = (inside.width > 1 && inside.height > 1) ? cv::BORDER_REFLECT_101 : cv::BORDER_REPLICATE;
  cv::Mat out;
  cv::copyMakeBorder(img(inside), out, top, bottom, left, right, border, cv::Scalar::all(0));
  return out;
}

}  // namespace ctxenc
