// test_prefill.cpp — the classical pre-fills: Telea in a fringe band of the hole.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

#include "ctxenc/errors.h"
#include "inpaint/prefill.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

// The fringe pre-fill is OpenCV Telea near the hole's edge and leaves the deep
// hole alone: pixels nearer than band/2 - 2 px to the known pixels equal a
// Telea fill of the whole hole (Telea marches into the band from both sides).
TEST(Prefill, FringeIsTheTeleaFillNearTheEdgeAndLeavesTheDeepHole) {
  cv::Mat img = photo(128, 128);
  cv::Mat hole = cv::Mat::zeros(img.size(), CV_8UC1);
  hole(cv::Rect(32, 30, 64, 60)).setTo(255);
  cv::Mat full, dist;
  cv::inpaint(img, hole, full, 5.0, cv::INPAINT_TELEA);
  cv::distanceTransform(hole > 0, dist, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  for (int band : {6, 10, 14, 20}) {
    SCOPED_TRACE(band);
    const cv::Mat f = prefill_fringe(img, hole, band);
    int near_checked = 0, near_equal = 0, deep_checked = 0, deep_equal = 0, outside_changed = 0;
    for (int y = 0; y < img.rows; ++y)
      for (int x = 0; x < img.cols; ++x) {
        const cv::Vec3b got = f.at<cv::Vec3b>(y, x);
        if (!hole.at<uchar>(y, x)) {
          outside_changed += got != img.at<cv::Vec3b>(y, x);
          continue;
        }
        const float d = dist.at<float>(y, x);
        if (d < band / 2.0 - 2) {
          ++near_checked;
          near_equal += got == full.at<cv::Vec3b>(y, x);
        } else if (d > band) {
          ++deep_checked;
          deep_equal += got == img.at<cv::Vec3b>(y, x);
        }
      }
    EXPECT_EQ(outside_changed, 0);
    EXPECT_EQ(near_equal, near_checked);
    EXPECT_GT(deep_checked, 0);
    EXPECT_EQ(deep_equal, deep_checked);
  }
  // The band is Telea's work, not a copy: the hole's edge pixels changed.
  const cv::Mat f = prefill_fringe(img, hole, 6);
  EXPECT_NE(f.at<cv::Vec3b>(30, 60), img.at<cv::Vec3b>(30, 60));
  EXPECT_THROW(prefill_fringe(img, hole, 0), UsageError);
  // No hole: the image comes back unchanged.
  const cv::Mat none = prefill_fringe(img, cv::Mat::zeros(img.size(), CV_8UC1), 6);
  EXPECT_EQ(cv::norm(none, img, cv::NORM_INF), 0.0);
}
