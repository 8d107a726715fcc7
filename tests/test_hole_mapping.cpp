// test_hole_mapping.cpp — HoleMapping: the center model's square, what the network sees and
// what is composited back, and how photo holes are framed into windows.
#include <gtest/gtest.h>

#include "ctxenc/masks.h"
#include "model/hole_mapping.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;
using torch::indexing::Slice;

namespace {

// The torch form of a cv mask, [1, 1, S, S], 1 = hole.
torch::Tensor as_holes(const cv::Mat& m) {
  return torch::from_blob(m.data, {1, 1, m.rows, m.cols}, torch::kUInt8).gt(0).to(torch::kFloat32).clone();
}

}  // namespace

TEST(HoleMapping, CenterHoleIs56x56At128WithA4PixelRing) {
  ModelConfig c;
  auto h = HoleMapping(c).network_holes(torch::zeros({1, 1, 128, 128}));
  EXPECT_EQ(h.sum().item<float>(), 56.0f * 56.0f);
  EXPECT_EQ(h[0][0][36][36].item<float>(), 1.0f);
  EXPECT_EQ(h[0][0][91][91].item<float>(), 1.0f);
  EXPECT_EQ(h[0][0][35][40].item<float>(), 0.0f);  // ring (32..35) is known
  EXPECT_EQ(h[0][0][92][40].item<float>(), 0.0f);
}

// A center model fills its own square whatever holes it is given, in every
// form the rooms ask for; a full-output model fills exactly what it is given.
TEST(HoleMapping, CenterModelFillsItsSquareWhateverItIsGiven) {
  const ModelConfig center = tiny_model(32, Bottleneck::Channelwise, OutputRegion::Center);  // overlap 2
  const HoleMapping hm(center);
  const cv::Mat square = hm.sample_hole(free_form(), /*seed=*/7);
  ASSERT_EQ(cv::countNonZero(square), 12 * 12);  // 32/2 - 2*2
  EXPECT_EQ(cv::countNonZero(square(cv::Rect(10, 10, 12, 12))), 12 * 12);
  EXPECT_EQ(cv::norm(hm.window_hole(cv::Mat::zeros(100, 100, CV_8UC1)), square, cv::NORM_INF), 0.0);
  auto random = (torch::rand({3, 1, 32, 32}) > 0.5).to(torch::kFloat32);
  EXPECT_TRUE(torch::equal(hm.network_holes(random), as_holes(square).expand({3, 1, 32, 32})));
  EXPECT_EQ(hm.training_masks(free_form()).kind, MaskKind::Center);
  EXPECT_EQ(hm.holes_in_output(random).sizes(), (std::vector<int64_t>{3, 1, 16, 16}));

  const HoleMapping full(tiny_model(32, Bottleneck::Channelwise, OutputRegion::Full));
  EXPECT_TRUE(torch::equal(full.network_holes(random), random));
  EXPECT_EQ(cv::norm(full.sample_hole(free_form(), 7), generate_mask(free_form(), 32, 32, 7), cv::NORM_INF), 0.0);
  EXPECT_EQ(full.training_masks(free_form()).kind, MaskKind::FreeForm);
  // Shrinking a window, a model pixel is hole if any window pixel under it is.
  cv::Mat dot = cv::Mat::zeros(64, 64, CV_8UC1);
  dot.at<uchar>(33, 33) = 255;
  EXPECT_EQ(cv::countNonZero(full.window_hole(dot)), 1);
  EXPECT_EQ(full.window_hole(dot).size(), cv::Size(32, 32));
}

// How photo holes are framed: a center model's window makes the hole fit its
// square; a full-output model's frames it with context, inside the photo.
TEST(HoleMapping, PhotoWindowsFollowTheModel) {
  InpaintOptions opt;
  opt.center_fit = 1.0;
  const HoleMapping center(tiny_model(32, Bottleneck::Channelwise, OutputRegion::Center));
  // A 120 px hole in the 12 px square of a 32 px model: a 320 px window, centred on the hole.
  const cv::Rect w = center.window_for_hole(cv::Rect(400, 300, 120, 120), cv::Size(1000, 800), opt);
  EXPECT_EQ(w.width, 320);
  EXPECT_EQ(w.height, 320);
  EXPECT_EQ(w.x + w.width / 2, 460);
  EXPECT_GT(center.fringe_band(120, opt), 0);
  EXPECT_EQ(center.tile_cell(opt), 12);
  EXPECT_FALSE(center.refines_in_tiles(cv::Rect(0, 0, 1000, 1000)));

  ModelConfig mc = tiny_model(32, Bottleneck::Channelwise, OutputRegion::Full);
  const HoleMapping full(mc);
  // A hole at the photo's corner: the window (context 2) slides inside the photo.
  const cv::Rect c = full.window_for_hole(cv::Rect(0, 0, 40, 40), cv::Size(300, 200), opt);
  EXPECT_EQ(c, cv::Rect(0, 0, 80, 80));
  // Never larger than the photo, never smaller than the model.
  EXPECT_EQ(full.window_for_hole(cv::Rect(0, 0, 150, 150), cv::Size(200, 160), opt).width, 200);
  EXPECT_EQ(full.window_for_hole(cv::Rect(5, 5, 4, 4), cv::Size(200, 160), opt).width, 32);
  EXPECT_EQ(full.fringe_band(40, opt), 0);
  EXPECT_EQ(full.tile_cell(opt), 16);
  EXPECT_FALSE(full.refines_in_tiles(cv::Rect(0, 0, 100, 100)));  // mean-filled: its window is final
  mc.fill = HoleFill::Telea;
  EXPECT_TRUE(HoleMapping(mc).refines_in_tiles(cv::Rect(0, 0, 100, 100)));
  EXPECT_FALSE(HoleMapping(mc).refines_in_tiles(cv::Rect(0, 0, 64, 64)));  // shrunk by only 2x
}

TEST(HoleMapping, GeneratorInputFillsOnlyTheHoleWithTheMean) {
  ModelConfig c;
  c.image_size = 32;
  const HoleMapping hm(c);
  auto img = torch::rand({2, 3, 32, 32}) * 2 - 1;
  auto hole = hm.network_holes(torch::zeros({2, 1, 32, 32}));
  auto x = hm.input(img, hole);
  auto known = (hole == 0).expand_as(img);
  EXPECT_TRUE(torch::equal(x.masked_select(known), img.masked_select(known)));
  EXPECT_NEAR(x[1][0][16][16].item<float>(), 117.0 / 255.0 * 2 - 1, 1e-6);
  EXPECT_NEAR(x[1][1][16][16].item<float>(), 104.0 / 255.0 * 2 - 1, 1e-6);
  EXPECT_NEAR(x[1][2][16][16].item<float>(), 123.0 / 255.0 * 2 - 1, 1e-6);
}

TEST(HoleMapping, CompositeKeepsKnownPixelsExactly) {
  for (auto out : {OutputRegion::Center, OutputRegion::Full}) {
    ModelConfig c;
    c.image_size = 32;
    c.output = out;
    const HoleMapping hm(c);
    auto img = torch::rand({2, 3, 32, 32}) * 2 - 1;
    auto hole = hm.network_holes((torch::rand({2, 1, 32, 32}) > 0.7).to(torch::kFloat32));
    auto pred = torch::rand({2, 3, c.output_size(), c.output_size()});
    auto res = hm.composite(img, hole, pred);
    auto known = (hole == 0).expand_as(img);
    EXPECT_TRUE(torch::equal(res.masked_select(known), img.masked_select(known)));
    auto holes3 = (hole > 0).expand_as(img);
    EXPECT_FALSE(torch::equal(res.masked_select(holes3), img.masked_select(holes3)));
    // inpaint = composite(predict): the generator sees input(), its output goes back.
    auto g = [&](const torch::Tensor& x) {
      EXPECT_TRUE(torch::equal(x, hm.input(img, hole)));
      return pred;
    };
    EXPECT_TRUE(torch::equal(hm.inpaint(g, img, hole), res));
  }
}

TEST(HoleMapping, TeleaFillTakesThePrefilledPixels) {
  ModelConfig c;
  c.image_size = 32;
  c.output = OutputRegion::Full;
  c.fill = HoleFill::Telea;
  const HoleMapping hm(c);
  EXPECT_TRUE(hm.prefills());
  auto img = torch::rand({1, 3, 32, 32}) * 2 - 1;
  auto hole = torch::zeros({1, 1, 32, 32});
  hole.index_put_({0, 0, Slice(8, 16), Slice(8, 16)}, 1.0);
  auto pre = torch::full({1, 3, 32, 32}, 0.25);
  auto x = hm.input(img, hole, pre);
  EXPECT_EQ(x[0][1][10][10].item<float>(), 0.25f);
  EXPECT_EQ(x[0][1][0][0].item<float>(), img[0][1][0][0].item<float>());
  EXPECT_THROW(hm.input(img, hole), std::exception);  // needs the pre-fill
}
