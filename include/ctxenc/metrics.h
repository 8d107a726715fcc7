// ctxenc/metrics.h — image-quality metrics of inpainting results, as the
// Context Encoders paper reports them (mean L1, mean L2, PSNR) plus SSIM.
// Torch-free: images are cv::Mat CV_8UC3 or CV_8UC1, read as values in [0, 1]
// (8-bit value / 255); masks are CV_8UC1 with non-zero = hole.
#pragma once
#include <cstdint>

#include <opencv2/core.hpp>

namespace ctxenc {

// PSNR of identical images (MSE 0) is infinite; it is reported as this value,
// and every PSNR is clamped to it.
constexpr double kPsnrCapDb = 100.0;

// Summed errors over the hole pixels of one image (or, added up, of a set).
struct HoleError {
  double abs_sum = 0;  // sum of |a - b| over hole pixels x channels, values in [0, 1]
  double sq_sum = 0;   // sum of (a - b)^2 over hole pixels x channels
  int64_t count = 0;   // hole pixels x channels summed over

  double l1() const { return count > 0 ? abs_sum / static_cast<double>(count) : 0.0; }   // mean |a - b|
  double mse() const { return count > 0 ? sq_sum / static_cast<double>(count) : 0.0; }   // mean (a - b)^2
  HoleError& operator+=(const HoleError& o) {
    abs_sum += o.abs_sum;
    sq_sum += o.sq_sum;
    count += o.count;
    return *this;
  }
};

// a, b: same size and type, CV_8UC3 or CV_8UC1; hole: CV_8UC1 same size,
// non-zero = hole. Pixels outside the hole are ignored. Throws InputError on
// mismatched sizes or types.
HoleError hole_error(const cv::Mat& a, const cv::Mat& b, const cv::Mat& hole);

// 10 * log10(1 / mse) for values in [0, 1], clamped to kPsnrCapDb (mse 0 gives the cap).
double psnr_from_mse(double mse);

// Structural similarity (Wang et al. 2004) of two whole images: Gaussian
// window 11 px, sigma 1.5, K1 = 0.01, K2 = 0.03, L = 1 on [0, 1] values,
// population (co)variances. The SSIM map is averaged over every window that
// lies fully inside the image (a 5 px border is left out, as in Wang's
// ssim.m 'valid' filtering; images under 11 px use the whole map with
// reflected borders), then over channels. a, b: same size and type,
// CV_8UC3 or CV_8UC1. Identical images give exactly 1.
double ssim(const cv::Mat& a, const cv::Mat& b);

}  // namespace ctxenc
