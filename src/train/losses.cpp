// losses.cpp — reconstruction and adversarial losses.
#include "train/losses.h"


namespace ctxenc {

torch::Tensor reconstruction_loss(const torch::Tensor& pred, const torch::Tensor& target,
                                  const torch::Tensor& weights, const torch::Tensor& holes_out) {
  const auto C = pred.size(1);
  auto diff = pred.to(torch::kFloat32) - target.to(torch::kFloat32);
  auto num = (diff * diff * weights).sum();
  // Normalised over hole pixels of the whole batch; a batch's hole count is
  // holes_out summed and broadcast to the batch size.
  auto holes = holes_out.to(torch::kFloat32).sum() * (pred.size(0) / holes_out.size(0));
  return num / (holes * C).clamp_min(1.0);
}

torch::Tensor adversarial_loss(const torch::Tensor& logits, bool real) {
  auto target = real ? torch::ones_like(logits, torch::kFloat32) : torch::zeros_like(logits, torch::kFloat32);
  return torch::binary_cross_entropy_with_logits(logits.to(torch::kFloat32), target);
}

}  // namespace ctxenc
