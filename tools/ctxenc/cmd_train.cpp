// cmd_train.cpp — `ctxenc train`: flags -> TrainConfig -> run_training, with a
// progress bar, Ctrl-C that saves a checkpoint, and --resume.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "ctxenc/config.h"
#include "ctxenc/errors.h"
#include "ctxenc/train_run.h"
#include "progress.h"

namespace ctxenc::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) {
  g_stop = true;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C kills at once
  std::signal(SIGTERM, SIG_DFL);
}

// Flags are parsed into separate storage and applied onto a base config only
// when given, so `--config FILE` and `--resume` can supply everything else.
struct TrainOptions {
  std::string config_file;
  bool resume = false;
  std::vector<std::pair<CLI::Option*, std::function<void(TrainConfig&)>>> overrides;

  template <typename T>
  void add(CLI::App* sub, const std::string& name, std::function<void(TrainConfig&, const T&)> set,
           const std::string& help, const std::string& default_text) {
    auto value = std::make_shared<T>();
    CLI::Option* o = sub->add_option(name, *value, help)->default_str(default_text);
    overrides.emplace_back(o, [value, set](TrainConfig& c) { set(c, *value); });
  }
  void add_flag(CLI::App* sub, const std::string& name, std::function<void(TrainConfig&)> set,
                const std::string& help) {
    CLI::Option* o = sub->add_flag(name, help);
    overrides.emplace_back(o, std::move(set));
  }
  void apply(TrainConfig& c) const {
    for (const auto& [opt, set] : overrides)
      if (opt->count() > 0) set(c);
  }
};

void run_train(const TrainOptions& opt) {
  TrainConfig cfg;
  if (opt.resume) {
    TrainConfig probe;
    opt.apply(probe);  // only to learn --out
    if (probe.out_dir.empty()) throw UsageError("--resume needs --out RUN_DIR");
    cfg = resume_config(probe.out_dir);
    cfg.out_dir = probe.out_dir;
  } else if (!opt.config_file.empty()) {
    std::ifstream in(opt.config_file);
    if (!in) throw InputError("cannot read config '" + opt.config_file + "'");
    try {
      cfg = nlohmann::json::parse(in).get<TrainConfig>();
    } catch (const nlohmann::json::exception& e) {
      throw InputError("config '" + opt.config_file + "' is not a valid training config: " + e.what());
    }
  }
  opt.apply(cfg);
  if (cfg.data.path.empty()) throw UsageError("--data DIR is required");
  if (cfg.out_dir.empty()) throw UsageError("--out RUN_DIR is required");

  g_stop = false;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::unique_ptr<ProgressBar> bar;
  TrainCallbacks cb;
  cb.on_message = [&](const std::string& s) { std::cerr << (bar ? "\n" : "") << "ctxenc: " << s << "\n"; };
  cb.should_stop = [] { return g_stop.load(); };
  cb.on_step = [&](const TrainProgress& p) {
    if (!bar) bar = std::make_unique<ProgressBar>("train", p.total_steps, p.first_step, "step");
    char s[160];
    std::snprintf(s, sizeof(s), "rec %.4f adv %.3f D %.3f | %.1f img/s", p.loss_rec, p.loss_adv, p.loss_d,
                  p.images_per_s);
    bar->update(p.step, s);
  };
  TrainResult r = run_training(cfg, opt.resume, cb);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (bar) bar->finish();
  if (r.skipped_files > 0)
    std::cerr << "ctxenc: skipped " << r.skipped_files << " unreadable image(s) (see warnings above)\n";
  if (r.interrupted) {
    std::cerr << "ctxenc: interrupted at step " << r.step << "; checkpoint saved to " << r.checkpoint
              << "\n        continue with: ctxenc train --resume --out " << cfg.out_dir << "\n";
    throw InterruptedError("training interrupted");
  }
  std::cout << "trained " << r.step << " steps (" << r.images_per_s << " images/s)\n"
            << "model:      " << r.model << "\n"
            << "checkpoint: " << r.checkpoint << "\n";
}

}  // namespace

void setup_train(CLI::App& app) {
  auto opt = std::make_shared<TrainOptions>();
  const TrainConfig d;
  CLI::App* sub = app.add_subcommand(
      "train",
      "Train a context encoder on a folder of images.\n"
      "Writes RUN_DIR/{config.json,log.jsonl,checkpoint.ctx,model.ctxm,samples/}.\n"
      "Ctrl-C saves a checkpoint; --resume --out RUN_DIR continues exactly where it stopped.");
  auto& o = *opt;
  sub->add_option("--config", o.config_file, "Start from a training config JSON (e.g. a run's config.json)");
  sub->add_flag("--resume", o.resume, "Continue the run in --out from its checkpoint");
  using C = TrainConfig;
  o.add<std::string>(sub, "--data", [](C& c, const std::string& v) { c.data.path = v; },
                     "Training images: a folder (recursive), Paris StreetView dir, train/val dir or .txt list", "");
  o.add<std::string>(sub, "--out", [](C& c, const std::string& v) { c.out_dir = v; }, "Run directory", "");
  o.add<int>(sub, "--image-size", [](C& c, const int& v) { c.model.image_size = v; },
             "Model input side (power of two, >= 32)", std::to_string(d.model.image_size));
  o.add<std::string>(sub, "--bottleneck", [](C& c, const std::string& v) { c.model.bottleneck = parse_bottleneck(v); },
                     "dense (released code, 4000-d) | channelwise (paper's channel-wise FC)",
                     to_string(d.model.bottleneck));
  o.add<int>(sub, "--nbottleneck", [](C& c, const int& v) { c.model.nbottleneck = v; }, "Dense bottleneck width",
             std::to_string(d.model.nbottleneck));
  o.add<std::string>(sub, "--output", [](C& c, const std::string& v) { c.model.output = parse_output_region(v); },
                     "center (predict the central S/2 patch) | full (predict the whole image)",
                     to_string(d.model.output));
  o.add<int>(sub, "--overlap", [](C& c, const int& v) { c.model.overlap = v; },
             "Center model: overlap ring width in px", std::to_string(d.model.overlap));
  o.add<int>(sub, "--nef", [](C& c, const int& v) { c.model.nef = v; }, "Encoder base width", std::to_string(d.model.nef));
  o.add<int>(sub, "--ngf", [](C& c, const int& v) { c.model.ngf = v; }, "Decoder base width", std::to_string(d.model.ngf));
  o.add<int>(sub, "--ndf", [](C& c, const int& v) { c.model.ndf = v; }, "Discriminator base width",
             std::to_string(d.model.ndf));
  o.add_flag(sub, "--mask-channel", [](C& c) { c.model.mask_channel = true; }, "Feed the hole mask as an input channel");
  o.add<std::string>(sub, "--fill", [](C& c, const std::string& v) { c.model.fill = parse_hole_fill(v); },
                     "What the generator sees in the hole: mean (paper) | telea (pre-filled)", "mean");
  o.add<std::string>(sub, "--upsampling", [](C& c, const std::string& v) { c.model.upsampling = parse_upsampling(v); },
                     "Decoder up-convolution: transposed (4x4 stride 2, released code) | bilinear (x2 bilinear + "
                     "3x3 conv, no checkerboard)",
                     "transposed");
  o.add_flag(sub, "--residual", [](C& c) { c.model.residual = true; },
             "Predict a correction to the filled input in the output region (last layer starts at zero)");
  o.add_flag(sub, "--global-discriminator", [](C& c) { c.model.global_discriminator = true; },
             "D judges the whole image, not just the predicted region");
  o.add<std::string>(sub, "--mask", [](C& c, const std::string& v) { c.mask.kind = parse_mask_kind(v); },
                     "Full-output models: center | random-block | random-region | free-form | mixed",
                     to_string(d.mask.kind));
  o.add<double>(sub, "--hole-ratio", [](C& c, const double& v) { c.mask.hole_ratio = v; },
                "Target fraction of the image that is hole", std::to_string(d.mask.hole_ratio));
  o.add<int>(sub, "--batch", [](C& c, const int& v) { c.batch_size = v; }, "Batch size", std::to_string(d.batch_size));
  o.add<int64_t>(sub, "--steps", [](C& c, const int64_t& v) { c.steps = v; }, "Total steps (G and D updates)",
                 std::to_string(d.steps));
  o.add<double>(sub, "--lr", [](C& c, const double& v) { c.lr = v; }, "Adam learning rate", "2e-4");
  o.add<int64_t>(sub, "--lr-decay-from", [](C& c, const int64_t& v) { c.lr_decay_from = v; },
                 "From this step the learning rates fall linearly to 0 at --steps (0 = constant)", "0");
  o.add<double>(sub, "--beta1", [](C& c, const double& v) { c.beta1 = v; }, "Adam beta1", "0.5");
  o.add<double>(sub, "--g-lr-mult", [](C& c, const double& v) { c.g_lr_mult = v; },
                "Generator lr multiplier (the released code uses 10)", "1");
  o.add_flag(sub, "--released-lr", [](C& c) { c.g_lr_mult = 10.0; }, "Same as --g-lr-mult 10");
  o.add<double>(sub, "--lambda-rec", [](C& c, const double& v) { c.lambda_rec = v; }, "Reconstruction weight", "0.999");
  o.add<double>(sub, "--lambda-adv", [](C& c, const double& v) { c.lambda_adv = v; },
                "Adversarial weight (0 = L2 only, no discriminator)", "0.001");
  o.add<double>(sub, "--d-input-noise", [](C& c, const double& v) { c.d_input_noise = v; },
                "Std of Gaussian noise on everything the discriminator sees (instance noise; 0 = none)", "0");
  o.add<double>(sub, "--r1-gamma", [](C& c, const double& v) { c.r1_gamma = v; },
                "R1 penalty weight on the discriminator's input gradient at real images (0 = none; e.g. 10)", "0");
  o.add<double>(sub, "--overlap-weight", [](C& c, const double& v) { c.overlap_weight = v; },
                "Loss weight of the overlap ring", "10");
  o.add<double>(sub, "--ema-decay", [](C& c, const double& v) { c.ema_decay = v; },
                "Ship a moving average of G's weights with this decay (0 = off; e.g. 0.999)", "0");
  o.add_flag(sub, "--no-ema-warmup", [](C& c) { c.ema_warmup = false; },
             "Average at --ema-decay from the first step (fine-tuning with --init-from: the average starts at "
             "the init)");
  o.add<uint64_t>(sub, "--seed", [](C& c, const uint64_t& v) { c.seed = v; }, "Random seed", "0");
  o.add<std::string>(sub, "--init-from", [](C& c, const std::string& v) { c.init_from = v; },
                     "Start G from this model file or checkpoint (same architecture; D starts fresh): fine-tuning",
                     "");
  o.add<int>(sub, "--threads", [](C& c, const int& v) { c.threads = v; }, "Compute threads (0 = all cores)", "0");
  o.add<int>(sub, "--loader-threads", [](C& c, const int& v) { c.data.loader_threads = v; },
             "Image decoding threads (0 = all cores)", "0");
  o.add<std::string>(sub, "--precision", [](C& c, const std::string& v) { c.precision = parse_precision(v); },
                     "fp32 | bf16 (bfloat16 autocast, fp32 master weights)", "fp32");
  o.add<double>(sub, "--min-crop", [](C& c, const double& v) { c.data.min_crop = v; },
                "Smallest random crop, as a fraction of the short side", std::to_string(d.data.min_crop));
  o.add<double>(sub, "--max-aspect", [](C& c, const double& v) { c.data.max_aspect = v; },
                "Crop aspect-ratio jitter bound", std::to_string(d.data.max_aspect));
  o.add<std::string>(sub, "--crop-frame", [](C& c, const std::string& v) { c.data.frame = parse_crop_frame(v); },
                     "short-side (crops of the short side at random places) | whole (the whole photo squeezed, as "
                     "eval shows it, through a window of [--min-crop, --max-crop] x each side)",
                     to_string(d.data.frame));
  o.add<double>(sub, "--max-crop", [](C& c, const double& v) { c.data.max_crop = v; },
                "Largest crop fraction (--crop-frame whole; above 1 the photo sits in a reflected border)",
                "1");
  o.add_flag(sub, "--no-flip", [](C& c) { c.data.hflip = false; }, "Disable random horizontal flips");
  o.add<int64_t>(sub, "--cache-mb", [](C& c, const int64_t& v) { c.data.cache_mb = v; },
                 "Decoded-image cache size in MiB (0 = off)", std::to_string(d.data.cache_mb));
  o.add<int64_t>(sub, "--log-every", [](C& c, const int64_t& v) { c.log_every = v; }, "Steps between log lines",
                 std::to_string(d.log_every));
  o.add<int64_t>(sub, "--save-every", [](C& c, const int64_t& v) { c.save_every = v; }, "Steps between checkpoints",
                 std::to_string(d.save_every));
  o.add<int64_t>(sub, "--keep-every", [](C& c, const int64_t& v) { c.keep_every = v; },
                 "Steps between kept model snapshots in RUN/snapshots/ (0 = none; checkpoints are overwritten)",
                 std::to_string(d.keep_every));
  o.add<int64_t>(sub, "--sample-every", [](C& c, const int64_t& v) { c.sample_every = v; },
                 "Steps between sample grids (0 = never)", std::to_string(d.sample_every));
  sub->callback([opt] { run_train(*opt); });
}

}  // namespace ctxenc::cli
