// train/trainer.h — internal: one context-encoder training state (G, D, two
// Adams, step) and its step: a discriminator update, then a generator update,
// per batch. What the networks see of the holes is HoleMapping's.
#pragma once
#include <memory>
#include <string>

#include <torch/torch.h>

#include "ctxenc/config.h"
#include "model/hole_mapping.h"
#include "model/networks.h"
#include "train/fused_adam.h"

namespace ctxenc {

struct StepStats {
  double loss_d = 0;    // discriminator loss: BCE, real + fake (+ r1_gamma/2 * r1)
  double r1 = 0;        // R1: mean squared gradient norm of D's logit at real inputs (r1_gamma > 0)
  double loss_adv = 0;  // generator adversarial BCE
  double loss_rec = 0;  // masked L2 over the hole (ring weighted)
  double loss_g = 0;    // lambda_rec * loss_rec + lambda_adv * loss_adv
  double d_real = 0;    // mean D probability on real regions
  double d_fake = 0;    // mean D probability on generated regions
  double lr = 0;        // D's learning rate in this step (G's is g_lr_mult times it)
};

class Trainer {
 public:
  explicit Trainer(const TrainConfig& cfg);  // fresh: weights from cfg.seed

  // images [B, C, S, S] in [-1, 1]; holes [B, 1, S, S], 1 = hole, as
  // HoleMapping maps them (the center model fills its own square).
  // prefilled: [B, C, S, S] hole pre-fill, for models with fill = telea.
  StepStats train_step(const torch::Tensor& images, const torch::Tensor& holes,
                       const torch::Tensor& prefilled = {});

  // Eval-mode prediction composited into the images: [B, C, S, S].
  torch::Tensor inpaint(const torch::Tensor& images, const torch::Tensor& holes,
                        const torch::Tensor& prefilled = {});

  // Starts G (and its weight average) from the generator of a model file or
  // checkpoint with the same architecture (cfg.init_from); D and the
  // optimizers stay fresh. Throws ModelFileError naming what differs.
  void init_generator(const std::string& path);

  // Checkpoint: G, D, both optimizers, step, RNG state and the full config.
  void save_checkpoint(const std::string& path) const;
  // Restores a checkpoint written by a trainer with the same model config.
  void load_checkpoint(const std::string& path);

  int64_t step() const { return step_; }
  // The learning rates of the next step, as a fraction of cfg.lr (lr_decay_from).
  double lr_factor() const;
  // The learning rate the generator's optimizer holds (that of the last step).
  double generator_lr() const;
  const TrainConfig& config() const { return cfg_; }
  const HoleMapping& holes() const { return mapping_; }
  Generator& generator() { return g_; }
  // The generator to ship and sample: the weight average if ema_decay > 0.
  Generator& shipped_generator() { return g_ema_ ? g_ema_ : g_; }
  Discriminator& discriminator() { return d_; }

 private:
  void update_ema();
  double apply_lr_schedule();  // sets both optimizers' lr for this step; returns D's

  TrainConfig cfg_;
  HoleMapping mapping_;
  Generator g_{nullptr};
  Generator g_ema_{nullptr};  // exponential moving average of g_ (ema_decay > 0)
  Discriminator d_{nullptr};
  std::unique_ptr<FusedAdam> opt_g_, opt_d_;
  int64_t step_ = 0;
};

// Reads the TrainConfig stored in a checkpoint (for --resume).
TrainConfig read_checkpoint_config(const std::string& path);

}  // namespace ctxenc
