// metrics.cpp — hole-region L1/L2 sums, PSNR and SSIM on 8-bit images.
#include "ctxenc/metrics.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "ctxenc/errors.h"

namespace ctxenc {
namespace {

void check_pair(const cv::Mat& a, const cv::Mat& b, const char* what) {
  if (a.empty() || b.empty()) throw InputError(std::string(what) + ": empty image");
  if (a.size() != b.size() || a.type() != b.type())
    throw InputError(std::string(what) + ": images differ in size or type (" + std::to_string(a.cols) + "x" +
                     std::to_string(a.rows) + " vs " + std::to_string(b.cols) + "x" + std::to_string(b.rows) + ")");
  if (a.depth() != CV_8U || (a.channels() != 1 && a.channels() != 3))
    throw InputError(std::string(what) + ": expects 8-bit images with 1 or 3 channels");
}

// Mean SSIM of one channel, CV_64FC1 values in [0, 1].
double ssim_channel(const cv::Mat& x, const cv::Mat& y) {
  constexpr double C1 = (0.01 * 1.0) * (0.01 * 1.0), C2 = (0.03 * 1.0) * (0.03 * 1.0);
  const cv::Size win(11, 11);
  const double sigma = 1.5;
  auto blur = [&](const cv::Mat& m) {
    cv::Mat out;
    cv::GaussianBlur(m, out, win, sigma, sigma, cv::BORDER_REFLECT_101);
    return out;
  };
  const cv::Mat mu_x = blur(x), mu_y = blur(y);
  const cv::Mat mu_xx = mu_x.mul(mu_x), mu_yy = mu_y.mul(mu_y), mu_xy = mu_x.mul(mu_y);
  const cv::Mat s_xx = blur(x.mul(x)) - mu_xx;
  const cv::Mat s_yy = blur(y.mul(y)) - mu_yy;
  const cv::Mat s_xy = blur(x.mul(y)) - mu_xy;
  cv::Mat num = (2 * mu_xy + C1).mul(2 * s_xy + C2);
  cv::Mat den = (mu_xx + mu_yy + C1).mul(s_xx + s_yy + C2);
  cv::Mat map;
  cv::divide(num, den, map);
  // Windows fully inside the image only ('valid'), when there are any.
  const int r = win.width / 2;
  cv::Rect valid(r, r, x.cols - 2 * r, x.rows - 2 * r);
  if (valid.width <= 0 || valid.height <= 0) valid = cv::Rect(0, 0, x.cols, x.rows);
  return cv::mean(map(valid))[0];
}

}  // namespace

HoleError hole_error(const cv::Mat& a, const cv::Mat& b, const cv::Mat& hole) {
  check_pair(a, b, "hole_error");
  if (hole.size() != a.size() || hole.type() != CV_8UC1)
    throw InputError("hole_error: the hole mask must be CV_8UC1 of the image's size");
  const int ch = a.channels();
  // Integer sums are exact; convert to [0, 1] units once at the end.
  int64_t abs_sum = 0, sq_sum = 0, n = 0;
  for (int y = 0; y < a.rows; ++y) {
    const uchar* pa = a.ptr<uchar>(y);
    const uchar* pb = b.ptr<uchar>(y);
    const uchar* pm = hole.ptr<uchar>(y);
    for (int x = 0; x < a.cols; ++x) {
      if (!pm[x]) continue;
      for (int c = 0; c < ch; ++c) {
        const int d = static_cast<int>(pa[x * ch + c]) - static_cast<int>(pb[x * ch + c]);
        abs_sum += std::abs(d);
        sq_sum += static_cast<int64_t>(d) * d;
      }
      n += ch;
    }
  }
  HoleError e;
  e.abs_sum = static_cast<double>(abs_sum) / 255.0;
  e.sq_sum = static_cast<double>(sq_sum) / (255.0 * 255.0);
  e.count = n;
  return e;
}

double psnr_from_mse(double mse) {
  if (!(mse > 0)) return kPsnrCapDb;
  return std::min(kPsnrCapDb, 10.0 * std::log10(1.0 / mse));
}

double ssim(const cv::Mat& a, const cv::Mat& b) {
  check_pair(a, b, "ssim");
  cv::Mat fa, fb;
  a.convertTo(fa, CV_64F, 1.0 / 255.0);
  b.convertTo(fb, CV_64F, 1.0 / 255.0);
  std::vector<cv::Mat> ca, cb;
  cv::split(fa, ca);
  cv::split(fb, cb);
  double sum = 0;
  for (size_t c = 0; c < ca.size(); ++c) sum += ssim_channel(ca[c], cb[c]);
  return sum / static_cast<double>(ca.size());
}

}  // namespace ctxenc
