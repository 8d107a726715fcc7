// test_losses.cpp — masked reconstruction loss, overlap ring weighting,
// generator input construction, compositing and the adversarial loss.
#include <gtest/gtest.h>

#include "ctxenc/holes.h"
#include "ctxenc/losses.h"

using namespace ctxenc;
using torch::indexing::Slice;

TEST(Holes, CenterHoleIs56x56At128WithA4PixelRing) {
  ModelConfig c;
  auto h = center_hole(c);
  EXPECT_EQ(h.sum().item<float>(), 56.0f * 56.0f);
  EXPECT_EQ(h[0][0][36][36].item<float>(), 1.0f);
  EXPECT_EQ(h[0][0][91][91].item<float>(), 1.0f);
  EXPECT_EQ(h[0][0][35][40].item<float>(), 0.0f);  // ring (32..35) is known
  EXPECT_EQ(h[0][0][92][40].item<float>(), 0.0f);
}

TEST(Holes, GeneratorInputFillsOnlyTheHoleWithTheMean) {
  ModelConfig c;
  c.image_size = 32;
  auto img = torch::rand({2, 3, 32, 32}) * 2 - 1;
  auto hole = center_hole(c).expand({2, 1, 32, 32});
  auto x = generator_input(c, img, hole);
  auto known = (hole == 0).expand_as(img);
  EXPECT_TRUE(torch::equal(x.masked_select(known), img.masked_select(known)));
  EXPECT_NEAR(x[1][0][16][16].item<float>(), 117.0 / 255.0 * 2 - 1, 1e-6);
  EXPECT_NEAR(x[1][1][16][16].item<float>(), 104.0 / 255.0 * 2 - 1, 1e-6);
  EXPECT_NEAR(x[1][2][16][16].item<float>(), 123.0 / 255.0 * 2 - 1, 1e-6);
}

TEST(Holes, CompositeKeepsKnownPixelsExactly) {
  for (auto out : {OutputRegion::Center, OutputRegion::Full}) {
    ModelConfig c;
    c.image_size = 32;
    c.output = out;
    auto img = torch::rand({2, 3, 32, 32}) * 2 - 1;
    auto hole = (torch::rand({2, 1, 32, 32}) > 0.7).to(torch::kFloat32);
    if (out == OutputRegion::Center) hole = center_hole(c).expand({2, 1, 32, 32});
    auto pred = torch::rand({2, 3, c.output_size(), c.output_size()});
    auto res = composite(c, img, hole, pred);
    auto known = (hole == 0).expand_as(img);
    EXPECT_TRUE(torch::equal(res.masked_select(known), img.masked_select(known)));
    auto holes3 = (hole > 0).expand_as(img);
    EXPECT_FALSE(torch::equal(res.masked_select(holes3), img.masked_select(holes3)));
  }
}

TEST(Losses, ReconstructionIgnoresKnownPixels) {
  ModelConfig c;
  c.image_size = 32;
  c.output = OutputRegion::Full;
  auto hole = torch::zeros({1, 1, 32, 32});
  hole.index_put_({0, 0, Slice(8, 16), Slice(8, 16)}, 1.0);  // 64 hole pixels
  auto target = torch::rand({1, 3, 32, 32});
  auto w = reconstruction_weights(c, hole, 10.0);
  // Garbage on every known pixel: loss stays exactly 0.
  auto pred = target.clone();
  pred.index_put_({Slice(), Slice(), Slice(0, 8), Slice()}, 5.0);
  pred.index_put_({Slice(), Slice(), Slice(20, 32), Slice()}, -3.0);
  EXPECT_EQ(reconstruction_loss(pred, target, w, hole).item<float>(), 0.0f);
  // An error of 0.5 on every hole pixel: mean squared error over the hole = 0.25.
  auto pred2 = target + 0.5 * hole;
  EXPECT_NEAR(reconstruction_loss(pred2, target, w, hole).item<float>(), 0.25f, 1e-6);
}

TEST(Losses, OverlapRingWeighsTenTimesTheHole) {
  ModelConfig c;  // center model, 128, overlap 4
  auto holes = center_hole(c);
  auto holes_out = crop_output_region(c, holes);  // [1, 1, 64, 64]
  auto w = reconstruction_weights(c, holes, 10.0);
  EXPECT_EQ(w[0][0][0][0].item<float>(), 10.0f);   // ring
  EXPECT_EQ(w[0][0][32][32].item<float>(), 1.0f);  // hole
  auto target = torch::zeros({1, 3, 64, 64});
  auto in_hole = target.clone();
  in_hole[0][1][30][30] = 1.0;  // one unit error inside the hole
  auto in_ring = target.clone();
  in_ring[0][1][1][30] = 1.0;  // the same error on the ring
  const float lh = reconstruction_loss(in_hole, target, w, holes_out).item<float>();
  const float lr = reconstruction_loss(in_ring, target, w, holes_out).item<float>();
  EXPECT_NEAR(lh, 1.0f / (3 * 56 * 56), 1e-9);  // normalised over the hole
  EXPECT_NEAR(lr / lh, 10.0f, 1e-4);
}

TEST(Losses, ReconstructionNormalisesOverTheBatchHole) {
  ModelConfig c;
  c.image_size = 32;
  c.output = OutputRegion::Full;
  auto hole = torch::zeros({2, 1, 32, 32});
  hole.index_put_({0, 0, Slice(0, 4), Slice(0, 4)}, 1.0);    // 16 px
  hole.index_put_({1, 0, Slice(0, 8), Slice(0, 8)}, 1.0);    // 64 px
  auto target = torch::zeros({2, 3, 32, 32});
  auto pred = 2.0 * hole.expand({2, 3, 32, 32});
  EXPECT_NEAR(reconstruction_loss(pred, target, reconstruction_weights(c, hole, 10.0), hole).item<float>(), 4.0f,
              1e-6);
}

TEST(Losses, AdversarialBceOnLogits) {
  auto zero = torch::zeros({4});
  EXPECT_NEAR(adversarial_loss(zero, true).item<float>(), std::log(2.0f), 1e-6);
  EXPECT_NEAR(adversarial_loss(torch::full({4}, 20.0), true).item<float>(), 0.0f, 1e-6);
  EXPECT_NEAR(adversarial_loss(torch::full({4}, 20.0), false).item<float>(), 20.0f, 1e-4);
}

TEST(Holes, TeleaFillTakesThePrefilledPixels) {
  ModelConfig c;
  c.image_size = 32;
  c.output = OutputRegion::Full;
  c.fill = HoleFill::Telea;
  auto img = torch::rand({1, 3, 32, 32}) * 2 - 1;
  auto hole = torch::zeros({1, 1, 32, 32});
  hole.index_put_({0, 0, Slice(8, 16), Slice(8, 16)}, 1.0);
  auto pre = torch::full({1, 3, 32, 32}, 0.25);
  auto x = generator_input(c, img, hole, pre);
  EXPECT_EQ(x[0][1][10][10].item<float>(), 0.25f);
  EXPECT_EQ(x[0][1][0][0].item<float>(), img[0][1][0][0].item<float>());
  EXPECT_THROW(generator_input(c, img, hole), std::exception);  // needs the pre-fill
}
