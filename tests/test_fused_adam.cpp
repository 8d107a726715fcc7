// test_fused_adam.cpp — the fused Adam step against libtorch's Adam, and their shared state.
#include <gtest/gtest.h>

#include "train/fused_adam.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

TEST(FusedAdam, MatchesTorchAdamAndSharesItsState) {
  torch::manual_seed(5);
  auto p0 = torch::randn({3, 4, 5, 6}).contiguous(torch::MemoryFormat::ChannelsLast);
  auto a = p0.clone().requires_grad_(true), b = p0.clone().requires_grad_(true);
  auto opts = torch::optim::AdamOptions(1e-2).betas({0.5, 0.999});
  torch::optim::Adam ref({a}, opts);
  FusedAdam fused({b}, opts);
  for (int i = 0; i < 20; ++i) {
    auto g = torch::randn_like(p0);
    a.mutable_grad() = g.clone();
    b.mutable_grad() = g.clone();
    ref.step();
    fused.step();
  }
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-6)) << (a - b).abs().max().item<float>();
  // State written by one loads into the other.
  auto bytes = optimizer_to_bytes(fused);
  torch::optim::Adam again({a}, opts);
  optimizer_from_bytes(again, bytes, "test");
}
