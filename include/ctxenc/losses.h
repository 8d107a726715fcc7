// ctxenc/losses.h — the context encoder's losses: masked L2 reconstruction with
// a heavier overlap ring, and the adversarial BCE loss.
#pragma once
#include <torch/torch.h>

#include "ctxenc/config.h"

namespace ctxenc {

// Per-pixel reconstruction weights in output-region coordinates, [B, 1, out, out]:
//   1 on hole pixels;
//   overlap_weight on the overlap ring (center model: output region minus hole);
//   0 on every other known pixel (full-output model).
torch::Tensor reconstruction_weights(const ModelConfig& cfg, const torch::Tensor& holes,
                                     double overlap_weight);

// Masked L2, normalised over the hole:
//   sum(weights * (pred - target)^2) / (C * number of hole pixels).
// pred/target [B, C, h, w]; weights, holes_out [B or 1, 1, h, w] (holes_out in
// the same output-region coordinates, 1 = hole).
torch::Tensor reconstruction_loss(const torch::Tensor& pred, const torch::Tensor& target,
                                  const torch::Tensor& weights, const torch::Tensor& holes_out);

// Binary cross-entropy on discriminator logits against an all-real or all-fake target.
torch::Tensor adversarial_loss(const torch::Tensor& logits, bool real);

}  // namespace ctxenc
