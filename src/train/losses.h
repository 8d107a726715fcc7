// train/losses.h — internal: the context encoder's losses: masked L2 reconstruction with
// a heavier overlap ring, and the adversarial BCE loss.
#pragma once
#include <torch/torch.h>

#include "ctxenc/config.h"

namespace ctxenc {

// Masked L2, normalised over the hole:
//   sum(weights * (pred - target)^2) / (C * number of hole pixels).
// pred/target [B, C, h, w]; weights, holes_out [B or 1, 1, h, w] (holes_out in
// the same output-region coordinates, 1 = hole; HoleMapping::reconstruction_weights
// and holes_in_output make both).
torch::Tensor reconstruction_loss(const torch::Tensor& pred, const torch::Tensor& target,
                                  const torch::Tensor& weights, const torch::Tensor& holes_out);

// Binary cross-entropy on discriminator logits against an all-real or all-fake target.
torch::Tensor adversarial_loss(const torch::Tensor& logits, bool real);

}  // namespace ctxenc
