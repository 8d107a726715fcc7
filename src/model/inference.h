// model/inference.h — internal: a generator compiled for inference: BatchNorm folded
// into the preceding convolutions, up-convolutions pre-converted to sub-pixel
// 3x3 weights, weights pre-cast to the compute dtype, channels_last, no
// autograd. Same outputs as Generator in eval mode (to float rounding).
#pragma once
#include <torch/torch.h>

#include "ctxenc/config.h"
#include "model/networks.h"

namespace ctxenc {

class InferenceGenerator {
 public:
  // Snapshots g's current weights and BN running statistics.
  InferenceGenerator(GeneratorImpl& g, Precision precision);

  // [B, C(+1), S, S] in [-1, 1] -> [B, C, out, out] float32.
  torch::Tensor forward(const torch::Tensor& x) const;

  const ModelConfig& config() const { return cfg_; }

 private:
  struct Conv {
    torch::Tensor weight, bias;  // folded; weight channels_last (4-D) or [in, out] matrix
    int kind = 0;                // 0 = conv s2 (+lrelu), 1 = up (+relu), 2 = last up (+tanh)
    bool bilinear = false;       // up: x2 bilinear then this 3x3 conv (else a sub-pixel conv)
    torch::Tensor weight_f32, bias_f32;  // bf16 models: an fp32 copy where fp32 is faster at batch 1
  };
  ModelConfig cfg_;
  Precision precision_;
  torch::ScalarType dtype_;
  std::vector<Conv> encoder_, decoder_;
  // Bottleneck, folded: dense -> two matrices; channel-wise -> FC + 1x1 conv.
  torch::Tensor enc_w_, enc_b_, dec_w_, dec_b_;  // dense: [nb, C*16], [nb], [out*16, nb], [out*16]
  torch::Tensor enc_b_f32_, dec_b_f32_;          // dense, bf16 with the AVX512-BF16 batch-1 kernel: fp32 biases
  torch::Tensor fc_w_, mix_w_, mix_b_;           // channel-wise: [m, 16, 16], [out, m, 1, 1], [out]
};

}  // namespace ctxenc
