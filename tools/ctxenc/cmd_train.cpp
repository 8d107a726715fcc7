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

#include "cli_output.h"
#include "commands.h"
#include "ctxenc/config.h"
#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "ctxenc/train_run.h"
#include "options.h"
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
// Each flag names the TrainConfig field it sets; its --help default is that
// field's value in a default TrainConfig.
struct TrainOptions {
  std::string config_file;
  bool resume = false;
  std::vector<std::pair<CLI::Option*, std::function<void(TrainConfig&)>>> overrides;

  // field: a function TrainConfig& -> the member it sets.
  template <typename Field>
  void add(CLI::App* sub, const std::string& name, Field field, const std::string& help) {
    using T = std::remove_reference_t<decltype(field(std::declval<TrainConfig&>()))>;
    TrainConfig defaults;
    auto value = std::make_shared<T>();
    CLI::Option* o = sub->add_option(name, *value, help)->default_str(default_text(field(defaults)));
    overrides.emplace_back(o, [value, field](TrainConfig& c) { field(c) = *value; });
  }
  template <typename Field, typename E>
  void add_enum(CLI::App* sub, const std::string& name, Field field, E (*parse)(const std::string&),
                const std::string& help) {
    TrainConfig defaults;
    auto value = std::make_shared<std::string>();
    CLI::Option* o = sub->add_option(name, *value, help)->default_str(to_string(field(defaults)));
    overrides.emplace_back(o, [value, field, parse](TrainConfig& c) { field(c) = parse(*value); });
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
    const std::string text = read_file(opt.config_file, kExitInput);
    const std::string what = "config '" + opt.config_file + "' is not a valid training config";
    cfg = config_from_json<TrainConfig>(parse_json(text, kExitInput, what), kExitInput, what);
  }
  opt.apply(cfg);
  if (cfg.data.path.empty()) throw UsageError("--data DIR is required");
  if (cfg.out_dir.empty()) throw UsageError("--out RUN_DIR is required");

  g_stop = false;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::unique_ptr<ProgressBar> bar;
  TrainCallbacks cb;
  cb.on_message = [&](const std::string& s) {
    if (!quiet()) std::cerr << (bar && stderr_is_tty() ? "\n" : "") << "ctxenc: " << s << "\n";
  };
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
  CLI::App* sub = app.add_subcommand(
      "train",
      "Train a context encoder on a folder of images.\n"
      "Writes RUN_DIR/{config.json,log.jsonl,checkpoint.ctx,model.ctxm,samples/}.\n"
      "Ctrl-C saves a checkpoint; --resume --out RUN_DIR continues exactly where it stopped.");
  auto& o = *opt;
  sub->add_option("--config", o.config_file, "Start from a training config JSON (e.g. a run's config.json)");
  sub->add_flag("--resume", o.resume, "Continue the run in --out from its checkpoint");
  using C = TrainConfig;
  // ---- data and run folder
  o.add(sub, "--data", [](C& c) -> auto& { return c.data.path; },
        "Training images: a folder (recursive), Paris StreetView dir, train/val dir or .txt list");
  o.add(sub, "--out", [](C& c) -> auto& { return c.out_dir; }, "Run directory");
  // ---- architecture
  o.add(sub, "--image-size", [](C& c) -> auto& { return c.model.image_size; }, "Model input side (power of two, >= 32)");
  o.add_enum(sub, "--bottleneck", [](C& c) -> auto& { return c.model.bottleneck; }, parse_bottleneck,
             "dense (released code, 4000-d) | channelwise (paper's channel-wise FC)");
  o.add(sub, "--nbottleneck", [](C& c) -> auto& { return c.model.nbottleneck; }, "Dense bottleneck width");
  o.add_enum(sub, "--output", [](C& c) -> auto& { return c.model.output; }, parse_output_region,
             "center (predict the central S/2 patch) | full (predict the whole image)");
  o.add(sub, "--overlap", [](C& c) -> auto& { return c.model.overlap; }, "Center model: overlap ring width in px");
  o.add(sub, "--nef", [](C& c) -> auto& { return c.model.nef; }, "Encoder base width");
  o.add(sub, "--ngf", [](C& c) -> auto& { return c.model.ngf; }, "Decoder base width");
  o.add(sub, "--ndf", [](C& c) -> auto& { return c.model.ndf; }, "Discriminator base width");
  o.add_flag(sub, "--mask-channel", [](C& c) { c.model.mask_channel = true; }, "Feed the hole mask as an input channel");
  o.add_enum(sub, "--fill", [](C& c) -> auto& { return c.model.fill; }, parse_hole_fill,
             "What the generator sees in the hole: mean (paper) | telea (pre-filled)");
  o.add_enum(sub, "--upsampling", [](C& c) -> auto& { return c.model.upsampling; }, parse_upsampling,
             "Decoder up-convolution: transposed (4x4 stride 2, released code) | bilinear (x2 bilinear + "
             "3x3 conv, no checkerboard)");
  o.add_flag(sub, "--residual", [](C& c) { c.model.residual = true; },
             "Predict a correction to the filled input in the output region (last layer starts at zero)");
  o.add_flag(sub, "--global-discriminator", [](C& c) { c.model.global_discriminator = true; },
             "D judges the whole image, not just the predicted region");
  // ---- holes
  o.add_enum(sub, "--mask", [](C& c) -> auto& { return c.mask.kind; }, parse_mask_kind,
             "Full-output models: center | random-block | random-region | free-form | mixed");
  o.add(sub, "--hole-ratio", [](C& c) -> auto& { return c.mask.hole_ratio; }, "Target fraction of the image that is hole");
  // ---- optimisation
  o.add(sub, "--batch", [](C& c) -> auto& { return c.batch_size; }, "Batch size");
  o.add(sub, "--steps", [](C& c) -> auto& { return c.steps; }, "Total steps (G and D updates)");
  o.add(sub, "--lr", [](C& c) -> auto& { return c.lr; }, "Adam learning rate");
  o.add(sub, "--lr-decay-from", [](C& c) -> auto& { return c.lr_decay_from; },
        "From this step the learning rates fall linearly to 0 at --steps (0 = constant)");
  o.add(sub, "--beta1", [](C& c) -> auto& { return c.beta1; }, "Adam beta1");
  o.add(sub, "--g-lr-mult", [](C& c) -> auto& { return c.g_lr_mult; },
        "Generator lr multiplier (the released code uses 10)");
  o.add_flag(sub, "--released-lr", [](C& c) { c.g_lr_mult = 10.0; }, "Same as --g-lr-mult 10");
  o.add(sub, "--lambda-rec", [](C& c) -> auto& { return c.lambda_rec; }, "Reconstruction weight");
  o.add(sub, "--lambda-adv", [](C& c) -> auto& { return c.lambda_adv; },
        "Adversarial weight (0 = L2 only, no discriminator)");
  o.add(sub, "--d-input-noise", [](C& c) -> auto& { return c.d_input_noise; },
        "Std of Gaussian noise on everything the discriminator sees (instance noise; 0 = none)");
  o.add(sub, "--r1-gamma", [](C& c) -> auto& { return c.r1_gamma; },
        "R1 penalty weight on the discriminator's input gradient at real images (0 = none; e.g. 10)");
  o.add(sub, "--overlap-weight", [](C& c) -> auto& { return c.overlap_weight; }, "Loss weight of the overlap ring");
  o.add(sub, "--ema-decay", [](C& c) -> auto& { return c.ema_decay; },
        "Ship a moving average of G's weights with this decay (0 = off; e.g. 0.999)");
  o.add_flag(sub, "--no-ema-warmup", [](C& c) { c.ema_warmup = false; },
             "Average at --ema-decay from the first step (fine-tuning with --init-from: the average starts at "
             "the init)");
  o.add(sub, "--seed", [](C& c) -> auto& { return c.seed; }, "Random seed");
  o.add(sub, "--init-from", [](C& c) -> auto& { return c.init_from; },
        "Start G from this model file or checkpoint (same architecture; D starts fresh): fine-tuning");
  o.add(sub, "--threads", [](C& c) -> auto& { return c.threads; }, "Compute threads (0 = all cores)");
  o.add_enum(sub, "--precision", [](C& c) -> auto& { return c.precision; }, parse_precision,
             "fp32 | bf16 (bfloat16 autocast, fp32 master weights)");
  // ---- data augmentation and loading
  o.add(sub, "--loader-threads", [](C& c) -> auto& { return c.data.loader_threads; },
        "Image decoding threads (0 = all cores)");
  o.add(sub, "--min-crop", [](C& c) -> auto& { return c.data.min_crop; },
        "Smallest random crop, as a fraction of the short side");
  o.add(sub, "--max-aspect", [](C& c) -> auto& { return c.data.max_aspect; }, "Crop aspect-ratio jitter bound");
  o.add_enum(sub, "--crop-frame", [](C& c) -> auto& { return c.data.frame; }, parse_crop_frame,
             "short-side (crops of the short side at random places) | whole (the whole photo squeezed, as "
             "eval shows it, through a window of [--min-crop, --max-crop] x each side)");
  o.add(sub, "--max-crop", [](C& c) -> auto& { return c.data.max_crop; },
        "Largest crop fraction (--crop-frame whole; above 1 the photo sits in a reflected border)");
  o.add_flag(sub, "--no-flip", [](C& c) { c.data.hflip = false; }, "Disable random horizontal flips");
  o.add(sub, "--cache-mb", [](C& c) -> auto& { return c.data.cache_mb; }, "Decoded-image cache size in MiB (0 = off)");
  // ---- outputs
  o.add(sub, "--log-every", [](C& c) -> auto& { return c.log_every; }, "Steps between log lines");
  o.add(sub, "--save-every", [](C& c) -> auto& { return c.save_every; }, "Steps between checkpoints");
  o.add(sub, "--keep-every", [](C& c) -> auto& { return c.keep_every; },
        "Steps between kept model snapshots in RUN/snapshots/ (0 = none; checkpoints are overwritten)");
  o.add(sub, "--sample-every", [](C& c) -> auto& { return c.sample_every; }, "Steps between sample grids (0 = never)");
  sub->callback([opt] { run_train(*opt); });
}

}  // namespace ctxenc::cli
