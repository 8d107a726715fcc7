// fused_adam.cpp — single-pass Adam update.
#include "train/fused_adam.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace ctxenc {
namespace {

bool same_dense_layout(const torch::Tensor& a, const torch::Tensor& b) {
  return a.is_non_overlapping_and_dense() && b.is_non_overlapping_and_dense() && a.strides() == b.strides() &&
         a.scalar_type() == torch::kFloat32 && b.scalar_type() == torch::kFloat32;
}

}  // namespace

torch::Tensor FusedAdam::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    auto& o = static_cast<torch::optim::AdamOptions&>(group.options());
    const bool plain = o.weight_decay() == 0 && !o.amsgrad();
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto key = c10::guts::to_string(p.unsafeGetTensorImpl());
      auto it = state_.find(key);
      if (it == state_.end()) {
        auto st = std::make_unique<torch::optim::AdamParamState>();
        st->step(0);
        st->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        st->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        if (o.amsgrad()) st->max_exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        it = state_.emplace(key, std::move(st)).first;
      }
      auto& st = static_cast<torch::optim::AdamParamState&>(*it->second);
      auto grad = p.grad();
      auto m = st.exp_avg(), v = st.exp_avg_sq();
      if (!plain || !same_dense_layout(p, grad) || !same_dense_layout(p, m) || !same_dense_layout(p, v)) {
        // Unusual case: exactly torch::optim::Adam's update.
        st.step(st.step() + 1);
        const auto [beta1, beta2] = o.betas();
        if (o.weight_decay() != 0) grad = grad.add(p, o.weight_decay());
        m.mul_(beta1).add_(grad, 1 - beta1);
        v.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
        torch::Tensor denom;
        const double bc2 = 1 - std::pow(beta2, st.step());
        if (o.amsgrad()) {
          auto mx = st.max_exp_avg_sq();
          torch::max_out(mx, v, mx);
          denom = (mx.sqrt() / std::sqrt(bc2)).add_(o.eps());
        } else {
          denom = (v.sqrt() / std::sqrt(bc2)).add_(o.eps());
        }
        p.addcdiv_(m, denom, -o.lr() / (1 - std::pow(beta1, st.step())));
        continue;
      }
      st.step(st.step() + 1);
      const auto [beta1, beta2] = o.betas();
      const float b1 = static_cast<float>(beta1), b2 = static_cast<float>(beta2);
      const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(1 - std::pow(beta2, st.step())));
      const float step_size = static_cast<float>(o.lr() / (1 - std::pow(beta1, st.step())));
      const float eps = static_cast<float>(o.eps());
      float* pp = p.data_ptr<float>();
      const float* gp = grad.data_ptr<float>();
      float* mp = m.data_ptr<float>();
      float* vp = v.data_ptr<float>();
      at::parallel_for(0, p.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const float g = gp[i];
          const float mi = b1 * mp[i] + (1.f - b1) * g;
          const float vi = b2 * vp[i] + (1.f - b2) * g * g;
          mp[i] = mi;
          vp[i] = vi;
          pp[i] -= step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
        }
      });
    }
  }
  return loss;
}

}  // namespace ctxenc
