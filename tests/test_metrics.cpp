// test_metrics.cpp — the evaluation metrics against hand-computed values, OpenCV and a
// naive SSIM.
#include <gtest/gtest.h>

#include <cmath>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "ctxenc/errors.h"
#include "ctxenc/metrics.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

namespace {

cv::Mat random_image(int w, int h, int channels, uint64_t seed) {
  cv::Mat m(h, w, CV_8UC(channels));
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  return m;
}

// SSIM straight from the definition, one channel, 'valid' windows only.
double naive_ssim(const cv::Mat& a8, const cv::Mat& b8) {
  const int r = 5;
  const double sigma = 1.5, C1 = 1e-4, C2 = 9e-4;
  double w[11][11], wsum = 0;
  for (int dy = -r; dy <= r; ++dy)
    for (int dx = -r; dx <= r; ++dx) wsum += w[dy + r][dx + r] = std::exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
  double total = 0;
  int n = 0;
  for (int y = r; y < a8.rows - r; ++y)
    for (int x = r; x < a8.cols - r; ++x) {
      double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
      for (int dy = -r; dy <= r; ++dy)
        for (int dx = -r; dx <= r; ++dx) {
          const double k = w[dy + r][dx + r] / wsum;
          const double a = a8.at<uchar>(y + dy, x + dx) / 255.0, b = b8.at<uchar>(y + dy, x + dx) / 255.0;
          ma += k * a, mb += k * b, saa += k * a * a, sbb += k * b * b, sab += k * a * b;
        }
      saa -= ma * ma, sbb -= mb * mb, sab -= ma * mb;
      total += ((2 * ma * mb + C1) * (2 * sab + C2)) / ((ma * ma + mb * mb + C1) * (saa + sbb + C2));
      ++n;
    }
  return total / n;
}



}  // namespace

TEST(Metrics, IdenticalImagesGiveCappedPsnrAndSsimOne) {
  const cv::Mat a = random_image(24, 20, 3, 1);
  cv::Mat hole = cv::Mat::zeros(a.size(), CV_8UC1);
  hole(cv::Rect(6, 5, 10, 8)).setTo(255);
  const HoleError e = hole_error(a, a.clone(), hole);
  EXPECT_EQ(e.count, 10 * 8 * 3);
  EXPECT_EQ(e.l1(), 0.0);
  EXPECT_EQ(e.mse(), 0.0);
  EXPECT_EQ(psnr_from_mse(e.mse()), kPsnrCapDb);
  EXPECT_EQ(kPsnrCapDb, 100.0);
  EXPECT_DOUBLE_EQ(ssim(a, a.clone()), 1.0);
  EXPECT_DOUBLE_EQ(ssim(random_image(7, 6, 1, 2), random_image(7, 6, 1, 2)), 1.0);  // smaller than a window
}

TEST(Metrics, ConstantErrorOnTheHoleGivesKnownL1L2AndPsnr) {
  cv::Mat a(16, 16, CV_8UC3, cv::Scalar(100, 100, 100)), b = a.clone();
  cv::Mat hole = cv::Mat::zeros(a.size(), CV_8UC1);
  hole(cv::Rect(4, 4, 4, 4)).setTo(255);
  b(cv::Rect(4, 4, 4, 4)).setTo(cv::Scalar(151, 49, 151));  // |error| 51/255 = 0.2 on every channel
  const HoleError e = hole_error(a, b, hole);
  EXPECT_EQ(e.count, 4 * 4 * 3);
  EXPECT_NEAR(e.l1(), 0.2, 1e-12);
  EXPECT_NEAR(e.mse(), 0.04, 1e-12);
  EXPECT_NEAR(psnr_from_mse(e.mse()), 10 * std::log10(25.0), 1e-9);  // 13.979 dB
  // Pooling two images adds up sums, not means.
  HoleError pooled = e;
  pooled += hole_error(a, a, hole);
  EXPECT_NEAR(pooled.l1(), 0.1, 1e-12);
  EXPECT_NEAR(pooled.mse(), 0.02, 1e-12);
}

TEST(Metrics, PixelsOutsideTheHoleAreIgnored) {
  const cv::Mat a = random_image(20, 20, 3, 3);
  cv::Mat b = a.clone();
  cv::Mat hole = cv::Mat::zeros(a.size(), CV_8UC1);
  hole(cv::Rect(5, 5, 6, 6)).setTo(255);
  b(cv::Rect(5, 5, 6, 6)).setTo(cv::Scalar(0, 0, 0));
  const HoleError before = hole_error(a, b, hole);
  cv::Mat c = b.clone();
  c.setTo(cv::Scalar(255, 0, 255), hole == 0);  // wreck everything outside the hole
  const HoleError after = hole_error(a, c, hole);
  EXPECT_EQ(before.count, after.count);
  EXPECT_DOUBLE_EQ(before.abs_sum, after.abs_sum);
  EXPECT_DOUBLE_EQ(before.sq_sum, after.sq_sum);
  EXPECT_EQ(hole_error(a, c, cv::Mat::zeros(a.size(), CV_8UC1)).count, 0);
  EXPECT_THROW(hole_error(a, random_image(20, 19, 3, 4), hole), InputError);
}

TEST(Metrics, PsnrAgreesWithOpenCvOnTheWholeImage) {
  const cv::Mat a = random_image(32, 24, 3, 5);
  cv::Mat noise = random_image(32, 24, 3, 6), b;
  cv::addWeighted(a, 0.8, noise, 0.2, 0, b);
  const cv::Mat everything(a.size(), CV_8UC1, cv::Scalar(255));
  const HoleError e = hole_error(a, b, everything);
  EXPECT_EQ(e.count, static_cast<int64_t>(a.total()) * 3);
  EXPECT_NEAR(psnr_from_mse(e.mse()), cv::PSNR(a, b, 255.0), 1e-6);
}

TEST(Metrics, SsimMatchesTheFormulaAndANaiveImplementation) {
  // Constant images: no variance, SSIM = (2 mu_a mu_b + C1) / (mu_a^2 + mu_b^2 + C1).
  const cv::Mat a(20, 20, CV_8UC1, cv::Scalar(102)), b(20, 20, CV_8UC1, cv::Scalar(153));  // 0.4, 0.6
  EXPECT_NEAR(ssim(a, b), (2 * 0.4 * 0.6 + 1e-4) / (0.16 + 0.36 + 1e-4), 1e-9);
  // Textured images against the definition, 'valid' windows only.
  const cv::Mat x = random_image(23, 19, 1, 7);
  cv::Mat y;
  cv::GaussianBlur(x, y, cv::Size(3, 3), 0.8);
  const double s = ssim(x, y);
  EXPECT_NEAR(s, naive_ssim(x, y), 1e-9);
  EXPECT_GT(s, 0.0);
  EXPECT_LT(s, 1.0);
  EXPECT_DOUBLE_EQ(ssim(y, x), s);
  // RGB: the mean of the channels.
  std::vector<cv::Mat> xs{x, y, x}, ys{y, y, 255 - x};
  cv::Mat x3, y3;
  cv::merge(xs, x3);
  cv::merge(ys, y3);
  EXPECT_NEAR(ssim(x3, y3), (naive_ssim(x, y) + 1.0 + naive_ssim(x, 255 - x)) / 3, 1e-9);
}
