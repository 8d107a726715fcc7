// test_masks.cpp — every mask kind: mean hole ratio on target, seeded
// reproducibility, shape sanity.
#include <gtest/gtest.h>

#include <cmath>

#include "ctxenc/masks.h"

using namespace ctxenc;

namespace {
struct RatioStats {
  double mean = 0, min = 1, max = 0;
};
RatioStats ratio_stats(MaskKind kind, double target, int n, int size = 128) {
  MaskConfig c;
  c.kind = kind;
  c.hole_ratio = target;
  RatioStats s;
  for (int i = 0; i < n; ++i) {
    const double r = hole_ratio(generate_mask(c, size, size, mix_seed(42, static_cast<uint64_t>(i))));
    s.mean += r / n;
    s.min = std::min(s.min, r);
    s.max = std::max(s.max, r);
  }
  return s;
}
}  // namespace

class MaskRatio : public ::testing::TestWithParam<MaskKind> {};

TEST_P(MaskRatio, MeanHoleRatioWithinFivePercentOfTargetOver1000Samples) {
  for (double target : {0.25, 0.15}) {
    const RatioStats s = ratio_stats(GetParam(), target, 1000);
    EXPECT_NEAR(s.mean, target, 0.05 * target) << to_string(GetParam()) << " target " << target;
    EXPECT_GT(s.min, 0.0);
    EXPECT_LT(s.max, 0.5);
  }
}

INSTANTIATE_TEST_SUITE_P(AllKinds, MaskRatio,
                         ::testing::Values(MaskKind::Center, MaskKind::RandomBlock, MaskKind::RandomRegion,
                                           MaskKind::FreeForm, MaskKind::Mixed),
                         [](const auto& info) {
                           std::string s = to_string(info.param);
                           for (auto& ch : s) if (ch == '-') ch = '_';
                           return s;
                         });

TEST(Masks, CenterIsTheCentralQuarter) {
  MaskConfig c;  // center, 0.25
  cv::Mat m = generate_mask(c, 128, 128, 0);
  EXPECT_EQ(cv::countNonZero(m), 64 * 64);
  EXPECT_EQ(m.at<uchar>(32, 32), 255);
  EXPECT_EQ(m.at<uchar>(95, 95), 255);
  EXPECT_EQ(m.at<uchar>(31, 64), 0);
  EXPECT_EQ(m.at<uchar>(96, 64), 0);
}

TEST(Masks, SeedsReproduceMasksExactly) {
  for (MaskKind k : {MaskKind::RandomBlock, MaskKind::RandomRegion, MaskKind::FreeForm}) {
    MaskConfig c;
    c.kind = k;
    for (uint64_t seed : {1ull, 7ull, 123456789ull}) {
      cv::Mat a = generate_mask(c, 128, 96, seed), b = generate_mask(c, 128, 96, seed);
      EXPECT_EQ(cv::norm(a, b, cv::NORM_L1), 0.0) << to_string(k);
      cv::Mat other = generate_mask(c, 128, 96, seed + 1);
      EXPECT_GT(cv::norm(a, other, cv::NORM_L1), 0.0) << to_string(k);
    }
  }
}

TEST(Masks, RandomRegionSpreadsAroundTarget) {
  const RatioStats s = ratio_stats(MaskKind::RandomRegion, 0.25, 300);
  EXPECT_GE(s.min, 0.20 - 1e-3);  // released code accepts 20-30% holes
  EXPECT_LE(s.max, 0.30 + 1e-3);
  EXPECT_GT(s.max - s.min, 0.05);  // not a constant
}

TEST(Masks, NonSquareAndSmallSizesWork) {
  for (MaskKind k : {MaskKind::Center, MaskKind::RandomBlock, MaskKind::RandomRegion, MaskKind::FreeForm}) {
    MaskConfig c;
    c.kind = k;
    cv::Mat m = generate_mask(c, 200, 60, 3);
    EXPECT_EQ(m.cols, 200);
    EXPECT_EQ(m.rows, 60);
    EXPECT_EQ(m.type(), CV_8UC1);
    EXPECT_NEAR(hole_ratio(m), 0.25, 0.06) << to_string(k);
    EXPECT_GT(hole_ratio(generate_mask(c, 32, 32, 3)), 0.0);
  }
}

TEST(Masks, RejectsImpossibleRatios) {
  MaskConfig c;
  c.hole_ratio = 1.5;
  EXPECT_THROW(generate_mask(c, 32, 32, 0), std::exception);
  c.hole_ratio = 0.0;
  EXPECT_THROW(generate_mask(c, 32, 32, 0), std::exception);
}

TEST(Masks, SpecsParseStrictlyAndRectsClipToTheImage) {
  EXPECT_EQ(parse_mask_spec("center").kind, MaskSpec::Kind::Center);
  EXPECT_EQ(parse_mask_spec("m.png").path, "m.png");
  const MaskSpec r = parse_mask_spec("rect:-5,10,20,30");
  ASSERT_EQ(r.kind, MaskSpec::Kind::Rect);
  EXPECT_EQ(r.rect, cv::Rect(-5, 10, 20, 30));
  for (const char* bad : {"rect:1,2,3", "rect:1,2,3,4,5", "rect:1,2,0,4", "rect:1,2,3,-4", "rect:1,2,3,4x",
                          "rect:a,b,c,d", "rect:1,2,99999999999,4", "rect:", "rect:1,,3,4", "rect: 1,2,3,4"})
    EXPECT_THROW(parse_mask_spec(bad), UsageError) << bad;
  const cv::Mat m = rect_mask(r.rect, 40, 30);  // clipped: x 0..15, y 10..30
  EXPECT_EQ(cv::countNonZero(m), 15 * 20);
  EXPECT_THROW(rect_mask(cv::Rect(50, 0, 5, 5), 40, 30), UsageError);
  EXPECT_THROW(rect_mask(cv::Rect(2147483000, 0, 2000, 5), 40, 30), UsageError);  // no int overflow
}

TEST(Masks, AMaskFileIsFittedOrRefusedByItsShape) {
  cv::Mat half = cv::Mat::zeros(15, 20, CV_8UC1);
  half(cv::Rect(5, 5, 4, 4)).setTo(255);
  bool resized = false;
  const cv::Mat fitted = fit_mask(half, cv::Size(40, 30), "half.png", &resized);
  EXPECT_TRUE(resized);
  EXPECT_EQ(fitted.size(), cv::Size(40, 30));
  EXPECT_EQ(cv::countNonZero(fitted), 8 * 8);
  EXPECT_FALSE((fit_mask(fitted, cv::Size(40, 30), "m", &resized), resized));
  EXPECT_THROW(fit_mask(cv::Mat::zeros(10, 40, CV_8UC1), cv::Size(40, 30), "wide.png"), InputError);
}
