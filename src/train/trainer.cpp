// trainer.cpp — the G/D training step, inference on a batch, and checkpoints.
#include "train/trainer.h"

#include "core/runtime.h"

#include "io/container.h"
#include "io/torch_archive.h"
#include "model/model_file.h"
#include "ctxenc/errors.h"
#include "train/losses.h"

namespace ctxenc {

namespace {
const TrainConfig& validated(const TrainConfig& cfg) {
  cfg.validate();
  return cfg;
}
}  // namespace

Trainer::Trainer(const TrainConfig& cfg) : cfg_(validated(cfg)), mapping_(cfg_.model) {
  torch::manual_seed(cfg_.seed);
  g_ = Generator(cfg_.model);
  d_ = Discriminator(cfg_.model);
  init_weights(*g_);
  init_weights(*d_);
  if (cfg_.model.residual) {
    // A residual generator starts as the identity on its filled input: the
    // last up-conv is zero, so training begins from the pre-fill, not noise.
    torch::NoGradGuard no_grad;
    auto last = g_->decoder->children().back()->as<UpBlockImpl>();
    last->weight().zero_();
  }
  to_channels_last(*g_);
  to_channels_last(*d_);
  opt_g_ = std::make_unique<FusedAdam>(
      g_->parameters(), torch::optim::AdamOptions(cfg_.lr * cfg_.g_lr_mult).betas({cfg_.beta1, 0.999}));
  opt_d_ = std::make_unique<FusedAdam>(
      d_->parameters(), torch::optim::AdamOptions(cfg_.lr).betas({cfg_.beta1, 0.999}));
  if (cfg_.ema_decay > 0) {
    g_ema_ = Generator(cfg_.model);
    torch::NoGradGuard no_grad;
    for (auto& p : g_ema_->parameters()) p.requires_grad_(false);
    copy_weights(*g_, *g_ema_);
  }
}

void Trainer::init_generator(const std::string& path) {
  const LoadedGenerator init = load_generator(path);
  const nlohmann::json want = cfg_.model, have = init.config;
  if (want != have) {
    std::string diff;
    for (auto it = want.begin(); it != want.end(); ++it)
      if (!have.contains(it.key()) || have.at(it.key()) != it.value())
        diff += (diff.empty() ? "" : ", ") + it.key() + " " + have.value(it.key(), nlohmann::json()).dump() +
                " (run: " + it.value().dump() + ")";
    throw ModelFileError("cannot start from '" + path + "': its architecture differs: " + diff);
  }
  copy_weights(*init.generator, *g_);
  if (g_ema_) copy_weights(*init.generator, *g_ema_);
}

double Trainer::lr_factor() const {
  if (cfg_.lr_decay_from <= 0 || step_ < cfg_.lr_decay_from) return 1.0;
  if (step_ >= cfg_.steps) return 0.0;
  return static_cast<double>(cfg_.steps - step_) / static_cast<double>(cfg_.steps - cfg_.lr_decay_from);
}

double Trainer::generator_lr() const {
  return static_cast<const torch::optim::AdamOptions&>(opt_g_->param_groups().front().options()).lr();
}

double Trainer::apply_lr_schedule() {
  const double f = lr_factor();
  auto set_lr = [](FusedAdam& opt, double lr) {
    for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  };
  set_lr(*opt_g_, cfg_.lr * cfg_.g_lr_mult * f);
  set_lr(*opt_d_, cfg_.lr * f);
  return cfg_.lr * f;
}

void Trainer::update_ema() {
  if (!g_ema_) return;
  // Warm-up: early on the average follows quickly, so it is not biased to a random init.
  const double warm = (1.0 + static_cast<double>(step_)) / (10.0 + static_cast<double>(step_));
  const double d = cfg_.ema_warmup ? std::min(cfg_.ema_decay, warm) : cfg_.ema_decay;
  torch::NoGradGuard no_grad;
  auto src = g_->parameters(), dst = g_ema_->parameters();
  for (size_t i = 0; i < src.size(); ++i) dst[i].mul_(d).add_(src[i].detach(), 1.0 - d);
  auto sb = g_->buffers(), db = g_ema_->buffers();
  for (size_t i = 0; i < sb.size(); ++i)
    if (sb[i].is_floating_point()) db[i].mul_(d).add_(sb[i], 1.0 - d);
    else db[i].copy_(sb[i]);
}

StepStats Trainer::train_step(const torch::Tensor& images_in, const torch::Tensor& holes_in,
                              const torch::Tensor& prefilled) {
  auto images = images_in.contiguous(torch::MemoryFormat::ChannelsLast);
  auto holes = mapping_.network_holes(holes_in);  // [B, 1, S, S]
  g_->train();
  d_->train();
  const double lr = apply_lr_schedule();
  PrecisionGuard precision(cfg_.precision);

  auto pred = g_->forward(mapping_.input(images, holes, prefilled));  // [B, C, out, out]
  auto target = mapping_.target(images);                                // [B, C, out, out]
  auto fake_view = [&](const torch::Tensor& p) { return mapping_.discriminator_fake(images, holes, p); };
  auto real_view = mapping_.discriminator_real(images);
  // Everything D sees, in channels_last, with instance noise if configured.
  auto d_input = [&](const torch::Tensor& x) {
    auto v = x.contiguous(torch::MemoryFormat::ChannelsLast);
    if (cfg_.d_input_noise > 0) v = v + cfg_.d_input_noise * torch::randn_like(v);
    return v;
  };

  StepStats st;
  st.lr = lr;
  const bool adversarial = cfg_.lambda_adv > 0;
  if (adversarial) {
    opt_d_->zero_grad();
    const bool r1 = cfg_.r1_gamma > 0;
    auto real_in = d_input(real_view).detach().requires_grad_(r1);  // [B, C, s, s]
    auto logit_real = d_->forward(real_in);
    auto logit_fake = d_->forward(d_input(fake_view(pred.detach())));
    auto loss_d = adversarial_loss(logit_real, true) + adversarial_loss(logit_fake, false);
    if (r1) {
      // E_real ||grad_x D(x)||^2, differentiable in D's weights (double backward).
      auto grad = torch::autograd::grad({logit_real.sum()}, {real_in}, /*grad_outputs=*/{},
                                        /*retain_graph=*/true, /*create_graph=*/true)[0];
      auto penalty = grad.to(torch::kFloat32).pow(2).flatten(1).sum(1).mean();
      loss_d = loss_d + 0.5 * cfg_.r1_gamma * penalty;
      st.r1 = penalty.item<double>();
    }
    loss_d.backward();
    opt_d_->step();
    st.loss_d = loss_d.item<double>();
    st.d_real = torch::sigmoid(logit_real.detach().to(torch::kFloat32)).mean().item<double>();
    st.d_fake = torch::sigmoid(logit_fake.detach().to(torch::kFloat32)).mean().item<double>();
  }

  opt_g_->zero_grad();
  auto weights = mapping_.reconstruction_weights(holes, cfg_.overlap_weight);
  auto loss_rec = reconstruction_loss(pred, target, weights, mapping_.holes_in_output(holes));
  auto loss_g = cfg_.lambda_rec * loss_rec;
  torch::Tensor loss_adv;
  if (adversarial) {
    loss_adv = adversarial_loss(d_->forward(d_input(fake_view(pred))), true);
    loss_g = loss_g + cfg_.lambda_adv * loss_adv;
  }
  loss_g.backward();
  opt_g_->step();
  update_ema();

  st.loss_rec = loss_rec.item<double>();
  st.loss_adv = adversarial ? loss_adv.item<double>() : 0.0;
  st.loss_g = loss_g.item<double>();
  ++step_;
  return st;
}

torch::Tensor Trainer::inpaint(const torch::Tensor& images, const torch::Tensor& holes,
                               const torch::Tensor& prefilled) {
  torch::NoGradGuard no_grad;
  Generator g = shipped_generator();
  g->eval();
  auto out = mapping_.inpaint(
      [&](const torch::Tensor& x) {
        PrecisionGuard precision(cfg_.precision);
        return g->forward(x).to(torch::kFloat32);
      },
      images, holes, prefilled);
  g->train();
  return out;
}

namespace {
std::string rng_state_bytes() {
  torch::serialize::OutputArchive a;
  a.write("cpu", at::detail::getDefaultCPUGenerator().get_state());
  std::ostringstream ss;
  a.save_to(ss);
  return ss.str();
}
void restore_rng_state(std::string_view bytes, const std::string& what) {
  check_torch_archive(bytes, what);
  torch::serialize::InputArchive a;
  a.load_from(bytes.data(), bytes.size());
  torch::Tensor state;
  a.read("cpu", state);
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}
}  // namespace

void Trainer::save_checkpoint(const std::string& path) const {
  ContainerFile f;
  f.header = {{"kind", "checkpoint"}, {"model", cfg_.model}, {"train", cfg_}, {"step", step_},
              {"dtype", "fp32"}};
  f.sections["generator"] = module_to_bytes(*g_);
  f.sections["discriminator"] = module_to_bytes(*d_);
  f.sections["opt_g"] = optimizer_to_bytes(*opt_g_);
  f.sections["opt_d"] = optimizer_to_bytes(*opt_d_);
  f.sections["rng"] = rng_state_bytes();
  if (g_ema_) f.sections["generator_ema"] = module_to_bytes(*g_ema_);
  write_container(path, f);
}

void Trainer::load_checkpoint(const std::string& path) {
  ContainerView f = read_container(path);
  const std::string what = "'" + path + "'";
  if (f.header.value("kind", "") != "checkpoint")
    throw ModelFileError(what + " is a model file, not a training checkpoint (it has no optimizer state)");
  const ModelConfig stored = stored_model_config(f.header, path);
  if (nlohmann::json(stored) != nlohmann::json(cfg_.model))
    throw ModelFileError(what + " was trained with a different model config: " + nlohmann::json(stored).dump());
  for (const char* s : {"generator", "discriminator", "opt_g", "opt_d", "rng"})
    if (!f.sections.count(s)) throw ModelFileError(what + " lacks its '" + std::string(s) + "' section");
  module_from_bytes(*g_, f.sections.at("generator"), what);
  module_from_bytes(*d_, f.sections.at("discriminator"), what);
  to_channels_last(*g_);
  to_channels_last(*d_);
  if (g_ema_) {
    // A run that enables the average on resume starts it from the current weights.
    if (f.sections.count("generator_ema")) module_from_bytes(*g_ema_, f.sections.at("generator_ema"), what);
    else copy_weights(*g_, *g_ema_);
    to_channels_last(*g_ema_);
  }
  optimizer_from_bytes(*opt_g_, f.sections.at("opt_g"), what);
  optimizer_from_bytes(*opt_d_, f.sections.at("opt_d"), what);
  // The loaded state carries the old learning rate; this trainer's config
  // decides it (apply_lr_schedule, each step), so a resume can lower it (`--resume --lr X`).
  try {
    restore_rng_state(f.sections.at("rng"), what);
  } catch (const c10::Error&) {
    throw ModelFileError(what + ": RNG state does not load");
  }
  step_ = f.header.value("step", int64_t{0});
}

TrainConfig read_checkpoint_config(const std::string& path) {
  const ContainerView f = read_container(path);
  TrainConfig c = stored_train_config(f.header, path);
  const auto g = f.sections.find("generator");
  if (g == f.sections.end()) throw ModelFileError("'" + path + "' holds no generator");
  require_weights_fit(c.model, g->second, path);
  return c;
}

}  // namespace ctxenc
