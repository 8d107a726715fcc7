// ctxenc/train_run.h — a whole training run in a run directory:
//   RUN_DIR/config.json     the TrainConfig as started
//   RUN_DIR/log.jsonl       one JSON line per log_every steps (+ events)
//   RUN_DIR/checkpoint.ctx  latest checkpoint (atomic; resumable)
//   RUN_DIR/model.ctxm      generator-only model file, written at the end
//   RUN_DIR/samples/        input | output | original grids every sample_every steps
//   RUN_DIR/snapshots/      model files every keep_every steps (keep_every > 0)
// The library reports progress through callbacks; the CLI draws the bar.
//
// Usage:
//
//   ctxenc::TrainConfig cfg;                       // defaults: the released 128x128 center model
//   cfg.data.path = "data/debian-photos";          // any layout (see DataConfig::path)
//   cfg.out_dir = "runs/center";
//   cfg.model.bottleneck = ctxenc::Bottleneck::Channelwise;
//   cfg.steps = 3000;
//   ctxenc::TrainCallbacks cb;
//   cb.on_step = [](const ctxenc::TrainProgress& p) { std::printf("%lld\n", (long long)p.step); };
//   ctxenc::TrainResult r = ctxenc::run_training(cfg, /*resume=*/false, cb);  // throws ctxenc::Error
//   // r.model: RUN_DIR/model.ctxm, ready for ctxenc::Inpainter
//
//   // later, or after an interruption:
//   ctxenc::run_training(ctxenc::resume_config("runs/center"), /*resume=*/true, cb);
#pragma once
#include <functional>
#include <string>

#include "ctxenc/config.h"

namespace ctxenc {

struct TrainProgress {
  int64_t step = 0;          // steps completed
  int64_t total_steps = 0;
  int64_t first_step = 0;    // step the run (re)started from
  double loss_d = 0, loss_adv = 0, loss_rec = 0, loss_g = 0;
  double images_per_s = 0;   // since (re)start
  double elapsed_s = 0;      // since (re)start
};

struct TrainCallbacks {
  std::function<void(const TrainProgress&)> on_step;    // after every step
  std::function<void(const std::string&)> on_message;   // warnings and events, one line each
  std::function<bool()> should_stop;                    // polled every step (e.g. SIGINT): saves and returns
};

struct TrainResult {
  int64_t step = 0;
  bool interrupted = false;
  std::string checkpoint;  // path of the last checkpoint written
  std::string model;       // path of the model file (empty if interrupted)
  double images_per_s = 0;
  int64_t skipped_files = 0;
};

// Runs (or, with resume, continues from RUN_DIR/checkpoint.ctx) a training run.
// Every setting is checked (TrainConfig::validate, the dataset, init_from)
// before anything is written. Throws UsageError, DataError, ModelFileError,
// OutputError; a non-finite loss throws Error(kExitInternal) naming the last
// good checkpoint.
TrainResult run_training(const TrainConfig& cfg, bool resume, const TrainCallbacks& cb = {});

// The config stored in RUN_DIR/checkpoint.ctx (for `train --resume`).
TrainConfig resume_config(const std::string& run_dir);

}  // namespace ctxenc
