// test_losses.cpp — the masked reconstruction loss with its overlap ring, and the adversarial
// loss.
#include <gtest/gtest.h>

#include <cmath>

#include "model/hole_mapping.h"
#include "train/losses.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;
using torch::indexing::Slice;

TEST(Losses, ReconstructionIgnoresKnownPixels) {
  ModelConfig c;
  c.image_size = 32;
  c.output = OutputRegion::Full;
  auto hole = torch::zeros({1, 1, 32, 32});
  hole.index_put_({0, 0, Slice(8, 16), Slice(8, 16)}, 1.0);  // 64 hole pixels
  auto target = torch::rand({1, 3, 32, 32});
  auto w = HoleMapping(c).reconstruction_weights(hole, 10.0);
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
  auto holes = HoleMapping(c).network_holes(torch::zeros({1, 1, 128, 128}));
  auto holes_out = crop_output_region(c, holes);  // [1, 1, 64, 64]
  auto w = HoleMapping(c).reconstruction_weights(holes, 10.0);
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
  EXPECT_NEAR(reconstruction_loss(pred, target, HoleMapping(c).reconstruction_weights(hole, 10.0), hole).item<float>(), 4.0f,
              1e-6);
}

TEST(Losses, AdversarialBceOnLogits) {
  auto zero = torch::zeros({4});
  EXPECT_NEAR(adversarial_loss(zero, true).item<float>(), std::log(2.0f), 1e-6);
  EXPECT_NEAR(adversarial_loss(torch::full({4}, 20.0), true).item<float>(), 0.0f, 1e-6);
  EXPECT_NEAR(adversarial_loss(torch::full({4}, 20.0), false).item<float>(), 20.0f, 1e-4);
}
