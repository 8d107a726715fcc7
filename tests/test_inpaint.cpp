// test_inpaint.cpp — filling holes in photos: every strategy and blend, border and multiple
// holes, large holes (coarse-to-fine), exactness of known pixels, pre-filled models,
// and the bad inputs (empty/full mask, tiny images).
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "ctxenc/inpaint.h"
#include "inpaint/prefill.h"
#include "model/model_file.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

namespace {



// A model of config c whose last layer is zeroed, written as d/name: flat grey
// output, or with a residual model a zero correction of its pre-fill.
std::string write_zeroed_model(const TempDir& d, const ModelConfig& c, const std::string& name) {
  Generator g(c);
  init_weights(*g);
  {
    torch::NoGradGuard no_grad;
    g->decoder->children().back()->as<UpBlockImpl>()->weight().zero_();
  }
  const std::string path = d / name;
  save_model_file(path, g, 0, {});
  return path;
}

// A tiny full-image model that fills every hole with flat grey, so each seam
// has a known colour step for a blend to remove.
std::string write_flat_model(const TempDir& d) {
  return write_zeroed_model(d, tiny_model(32, Bottleneck::Channelwise, OutputRegion::Full), "flat.ctxm");
}

// Known pixels equal, bit for bit; hole pixels changed.
void expect_exact_outside(const cv::Mat& in, const cv::Mat& out, const cv::Mat& mask) {
  ASSERT_EQ(in.size(), out.size());
  ASSERT_EQ(out.type(), CV_8UC3);
  cv::Mat diff;
  cv::absdiff(in, out, diff);
  cv::Mat d1;
  cv::cvtColor(diff, d1, cv::COLOR_RGB2GRAY);
  cv::Mat known_diff = d1 & (mask == 0);
  EXPECT_EQ(cv::countNonZero(known_diff), 0) << "known pixels changed";
  EXPECT_GT(cv::countNonZero(d1 & (mask > 0)), 0) << "no hole pixel was filled";
}

}  // namespace

class InpaintAll : public ::testing::TestWithParam<std::tuple<InpaintStrategy, Blend, OutputRegion>> {};

TEST_P(InpaintAll, KnownPixelsAreUnchangedAndHolesFilled) {
  TempDir d;
  auto [strategy, blend, output] = GetParam();
  InpaintOptions o;
  o.strategy = strategy;
  o.blend = blend;
  Inpainter inp(write_tiny_model(d, output), o);
  cv::Mat img = photo(150, 110);
  cv::Mat mask = cv::Mat::zeros(img.size(), CV_8UC1);
  cv::circle(mask, {40, 50}, 9, 255, -1);                  // interior hole
  cv::rectangle(mask, {0, 90}, {25, 109}, 255, -1);        // hole touching two borders
  cv::line(mask, {90, 10}, {140, 40}, 255, 5);             // a stroke
  InpaintReport rep;
  cv::Mat out = inp.inpaint(img, mask, &rep);
  EXPECT_EQ(rep.holes, 3);
  EXPECT_GE(rep.windows, 1);
  expect_exact_outside(img, out, mask);
}

INSTANTIATE_TEST_SUITE_P(
    StrategiesBlendsModels, InpaintAll,
    ::testing::Combine(::testing::Values(InpaintStrategy::Crop, InpaintStrategy::Resize, InpaintStrategy::Full),
                       ::testing::Values(Blend::None, Blend::Feather, Blend::Poisson),
                       ::testing::Values(OutputRegion::Full, OutputRegion::Center)),
    [](const auto& info) {
      return std::string(to_string(std::get<0>(info.param))) + "_" + to_string(std::get<1>(info.param)) + "_" +
             to_string(std::get<2>(info.param));
    });

TEST(Inpaint, LargeHoleGoesCoarseToFine) {
  TempDir d;
  cv::Mat img = photo(400, 300);
  cv::Mat mask = cv::Mat::zeros(img.size(), CV_8UC1);
  mask(cv::Rect(100, 80, 150, 120)).setTo(255);  // window 300 px > 2 x 32: coarse first
  // A Telea-prefilled model refines the coarse fill in native-resolution tiles.
  ModelConfig refining = tiny_model(32, Bottleneck::Channelwise, OutputRegion::Full);
  refining.fill = HoleFill::Telea;
  Generator g(refining);
  init_weights(*g);
  save_model_file(d / "telea.ctxm", g, 0, {});
  InpaintReport rep;
  cv::Mat out = Inpainter(d / "telea.ctxm", {}).inpaint(img, mask, &rep);
  EXPECT_GT(rep.windows, 2);
  expect_exact_outside(img, out, mask);
  // A mean-filled model cannot see a coarse fill under its hole: one coarse window.
  out = Inpainter(write_tiny_model(d, OutputRegion::Full), {}).inpaint(img, mask, &rep);
  EXPECT_EQ(rep.windows, 1);
  expect_exact_outside(img, out, mask);
  // A pre-filled center model re-fills its whole square: one window too.
  ModelConfig center = tiny_model(32, Bottleneck::Channelwise, OutputRegion::Center);
  center.fill = HoleFill::Telea;
  Generator gc(center);
  init_weights(*gc);
  save_model_file(d / "telea-center.ctxm", gc, 0, {});
  out = Inpainter(d / "telea-center.ctxm", {}).inpaint(img, mask, &rep);
  EXPECT_EQ(rep.windows, 1);
  expect_exact_outside(img, out, mask);
}

TEST(Inpaint, BlendsDifferAndStayInTheHole) {
  TempDir d;
  const std::string m = write_flat_model(d);
  cv::Mat img(96, 96, CV_8UC3);  // smooth colour ramps: a seam is a colour step, not texture
  for (int y = 0; y < 96; ++y)
    for (int x = 0; x < 96; ++x) img.at<cv::Vec3b>(y, x) = cv::Vec3b(40 + 2 * x, 220 - y, 60 + x + y / 2);
  cv::Mat mask = cv::Mat::zeros(img.size(), CV_8UC1);
  mask(cv::Rect(30, 30, 30, 30)).setTo(255);
  std::vector<cv::Mat> outs;
  for (Blend b : {Blend::None, Blend::Feather, Blend::Poisson}) {
    InpaintOptions o;
    o.blend = b;
    outs.push_back(Inpainter(m, o).inpaint(img, mask));
    expect_exact_outside(img, outs.back(), mask);
  }
  EXPECT_GT(cv::norm(outs[0], outs[1], cv::NORM_L1), 0.0);
  EXPECT_GT(cv::norm(outs[0], outs[2], cv::NORM_L1), 0.0);
  // Feather and Poisson pull the hole's border towards its known neighbours.
  auto seam = [&](const cv::Mat& o) {
    double s = 0;
    for (int y = 30; y < 60; ++y) s += cv::norm(o.at<cv::Vec3b>(y, 30), o.at<cv::Vec3b>(y, 29));
    return s;
  };
  EXPECT_LT(seam(outs[1]), 0.5 * seam(outs[0]));
  EXPECT_LT(seam(outs[2]), 0.5 * seam(outs[0]));
}

// What the input holds under the hole (the object to remove, or white paint)
// never reaches the result: not through the context, not through a blend, not
// through the reflection of a hole that touches the image border.
TEST(Inpaint, ResultDoesNotDependOnWhatIsUnderTheHole) {
  TempDir d;
  const std::string m = write_tiny_model(d, OutputRegion::Full);
  const cv::Mat img = photo(96, 80);
  cv::Mat mask = cv::Mat::zeros(img.size(), CV_8UC1);
  mask(cv::Rect(0, 20, 18, 30)).setTo(255);   // touches the left border
  mask(cv::Rect(50, 40, 20, 16)).setTo(255);  // inside
  cv::Mat white = img.clone(), black = img.clone();
  white.setTo(cv::Scalar::all(255), mask);
  black.setTo(cv::Scalar::all(0), mask);
  for (Blend b : {Blend::None, Blend::Feather, Blend::Poisson}) {
    InpaintOptions o;
    o.blend = b;
    const Inpainter inp(m, o);
    const cv::Mat a = inp.inpaint(white, mask), c = inp.inpaint(black, mask);
    EXPECT_EQ(cv::norm(a, c, cv::NORM_INF), 0.0) << to_string(b);
  }
}

TEST(Inpaint, EmptyMaskGivesACopyAndFullMaskIsRefused) {
  TempDir d;
  Inpainter inp(write_tiny_model(d, OutputRegion::Full), {});
  cv::Mat img = photo(64, 48);
  InpaintReport rep;
  cv::Mat same = inp.inpaint(img, cv::Mat::zeros(img.size(), CV_8UC1), &rep);
  EXPECT_EQ(rep.holes, 0);
  EXPECT_EQ(cv::norm(img, same, cv::NORM_L1), 0.0);
  EXPECT_THROW(inp.inpaint(img, cv::Mat(img.size(), CV_8UC1, cv::Scalar(255))), InputError);
  EXPECT_THROW(inp.inpaint(photo(1, 1), cv::Mat::zeros(1, 1, CV_8UC1)), InputError);
  EXPECT_THROW(inp.inpaint(img, cv::Mat::zeros(10, 10, CV_8UC1)), InputError);
}

TEST(Inpaint, CenterMaskFollowsTheModel) {
  TempDir d;
  Inpainter center(write_tiny_model(d, OutputRegion::Center), {});
  cv::Mat m = center.photo_center_hole(128, 128);  // tiny model: 32 px, overlap 2 -> hole 12/32
  EXPECT_EQ(cv::countNonZero(m), 48 * 48);
  Inpainter full(write_tiny_model(d, OutputRegion::Full), {});
  EXPECT_EQ(cv::countNonZero(full.photo_center_hole(128, 128)), 64 * 64);
}

// center_fit sets how much of the center model's square the hole's box fills:
// another fit frames another window, so the fill changes; only the hole does.
TEST(Inpaint, CenterFitChangesTheWindowAndIsRangeChecked) {
  TempDir d;
  const std::string model = write_tiny_model(d, OutputRegion::Center);
  EXPECT_EQ(InpaintOptions{}.center_fit, 0.98);
  InpaintOptions o;
  o.blend = Blend::None;
  cv::Mat img = photo(96, 96);
  cv::Mat mask = cv::Mat::zeros(img.size(), CV_8UC1);
  mask(cv::Rect(30, 34, 40, 36)).setTo(255);
  o.center_fit = 0.9;
  cv::Mat tight = Inpainter(model, o).inpaint(img, mask);
  o.center_fit = 1.3;
  cv::Mat loose = Inpainter(model, o).inpaint(img, mask);
  expect_exact_outside(img, tight, mask);
  expect_exact_outside(img, loose, mask);
  EXPECT_GT(cv::norm(tight, loose, cv::NORM_L1), 0.0);
  for (double bad : {0.79, 1.51}) {
    o.center_fit = bad;
    EXPECT_THROW(Inpainter(model, o), UsageError) << bad;
  }
}

TEST(Inpaint, TeleaPrefilledResidualModelStartsAtTheTeleaFill) {
  TempDir d;
  ModelConfig c = tiny_model(32, Bottleneck::Channelwise, OutputRegion::Full);
  c.fill = HoleFill::Telea;
  c.residual = true;
  c.mask_channel = true;
  write_zeroed_model(d, c, "r.ctxm");  // zero correction
  InpaintOptions o;
  o.strategy = InpaintStrategy::Resize;
  o.blend = Blend::None;
  cv::Mat img = photo(32, 32);
  cv::Mat mask = cv::Mat::zeros(img.size(), CV_8UC1);
  mask(cv::Rect(10, 12, 8, 6)).setTo(255);
  cv::Mat out = Inpainter(d / "r.ctxm", o).inpaint(img, mask);
  expect_exact_outside(img, out, mask);
  // With a zero correction the fill is OpenCV's Telea fill, up to rounding.
  cv::Mat telea;
  cv::inpaint(img, mask, telea, 5.0, cv::INPAINT_TELEA);
  cv::Mat diff;
  cv::absdiff(out, telea, diff);
  double mx = 0;
  cv::minMaxLoc(diff.reshape(1), nullptr, &mx);
  EXPECT_LE(mx, 1.0);
}

// A residual center model corrects the Telea fill of its whole square (as in
// training), not of the user's smaller hole.
TEST(Inpaint, TeleaPrefilledCenterModelStartsAtTheTeleaFillOfItsSquare) {
  TempDir d;
  ModelConfig c = tiny_model(32, Bottleneck::Channelwise, OutputRegion::Center);  // square 12x12 at (10, 10)
  c.fill = HoleFill::Telea;
  c.residual = true;
  write_zeroed_model(d, c, "rc.ctxm");  // zero correction
  InpaintOptions o;
  o.blend = Blend::None;
  cv::Mat img = photo(32, 32);
  cv::Mat mask = cv::Mat::zeros(img.size(), CV_8UC1);
  mask(cv::Rect(14, 14, 4, 4)).setTo(255);  // the window is the image itself
  cv::Mat out = Inpainter(d / "rc.ctxm", o).inpaint(img, mask);
  expect_exact_outside(img, out, mask);
  cv::Mat square = cv::Mat::zeros(img.size(), CV_8UC1), telea, diff;
  square(cv::Rect(10, 10, 12, 12)).setTo(255);
  cv::inpaint(img, square, telea, 5.0, cv::INPAINT_TELEA);
  cv::absdiff(out, telea, diff);
  cv::Mat mask3;
  cv::merge(std::vector<cv::Mat>{mask, mask, mask}, mask3);
  double mx = 0;
  cv::minMaxLoc(diff.reshape(1), nullptr, &mx, nullptr, nullptr, mask3.reshape(1));
  EXPECT_LE(mx, 1.0);
}
