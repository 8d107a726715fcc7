// test_inference.cpp — the folded inference generator against the eval-mode generator, and
// the AVX512-BF16 batch-1 kernel against torch.
#include <gtest/gtest.h>

#include "model/gemv_bf16.h"
#include "model/inference.h"
#include "model/networks.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

TEST(Inference, FoldedGeneratorMatchesEvalModeForEveryKind) {
  for (auto b : {Bottleneck::Dense, Bottleneck::Channelwise})
    for (auto o : {OutputRegion::Center, OutputRegion::Full})
      for (bool residual : {false, true})
      for (auto up : {Upsampling::Transposed, Upsampling::Bilinear}) {
      torch::manual_seed(11);
      ModelConfig c = small_model(64, b, o);
      c.residual = residual;
      c.upsampling = up;
      Generator g(c);
      init_weights(*g);
      // Non-trivial BN statistics: a few training-mode forwards.
      for (int i = 0; i < 3; ++i) g(torch::randn({4, 3, 64, 64}));
      g->eval();
      auto x = torch::rand({3, 3, 64, 64}) * 2 - 1;
      torch::Tensor ref;
      {
        torch::NoGradGuard ng;
        ref = g(x);
      }
      InferenceGenerator fp32(*g, Precision::FP32), bf16(*g, Precision::BF16);
      auto y = fp32.forward(x);
      EXPECT_EQ(y.sizes(), ref.sizes());
      EXPECT_TRUE(torch::allclose(y, ref, 1e-4, 1e-4)) << to_string(b) << to_string(o) << to_string(up) << " "
                                                        << (y - ref).abs().max().item<float>();
      EXPECT_LT((bf16.forward(x) - ref).abs().max().item<float>(), 0.1f);
      EXPECT_LT((bf16.forward(x) - ref).abs().mean().item<float>(), 0.01f);
      // One image takes other paths (GEMV, the AVX512-BF16 kernel): same outputs.
      auto x1 = x.narrow(0, 1, 1), ref1 = ref.narrow(0, 1, 1);
      EXPECT_TRUE(torch::allclose(fp32.forward(x1), ref1, 1e-4, 1e-4)) << to_string(b) << to_string(o);
      EXPECT_LT((bf16.forward(x1) - ref1).abs().max().item<float>(), 0.1f) << to_string(b) << to_string(o);
      EXPECT_LT((bf16.forward(x1) - bf16.forward(x).narrow(0, 1, 1)).abs().max().item<float>(), 0.05f);
      }
}

// The batch-1 bf16 kernel against torch's fp32 product of the same bf16
// values, at sizes that leave tails of every length.
TEST(Inference, Bf16GemvKernelMatchesTorch) {
  if (!gemv_bf16_supported()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  torch::manual_seed(5);
  for (int64_t in : {1, 31, 32, 95, 100, 8192})
    for (int64_t rows : {1, 7, 64}) {
      auto w = torch::randn({rows, in}).to(torch::kBFloat16), x = torch::randn({in}).to(torch::kBFloat16);
      auto bias = torch::randn({rows});
      auto ref = torch::mv(w.to(torch::kFloat32), x.to(torch::kFloat32)) + bias;
      auto y = torch::empty({rows});
      gemv_bf16_rows(reinterpret_cast<const uint16_t*>(w.data_ptr<at::BFloat16>()),
                     reinterpret_cast<const uint16_t*>(x.data_ptr<at::BFloat16>()), bias.data_ptr<float>(),
                     y.data_ptr<float>(), in, 0, rows);
      EXPECT_TRUE(torch::allclose(y, ref, 1e-3, 1e-3)) << in << "x" << rows << " "
                                                       << (y - ref).abs().max().item<float>();
    }
}
