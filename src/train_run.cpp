// train_run.cpp — the training driver: run dir, loader, step loop, logs,
// sample grids, checkpoints, interruption.
#include "ctxenc/train_run.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "ctxenc/checkpoint.h"
#include "ctxenc/dataset.h"
#include "ctxenc/errors.h"
#include "ctxenc/holes.h"
#include "ctxenc/image_io.h"
#include "ctxenc/trainer.h"

namespace ctxenc {
namespace fs = std::filesystem;
namespace {

std::string checkpoint_path(const std::string& dir) { return (fs::path(dir) / "checkpoint.ctx").string(); }

// Keeps log lines up to `step` (a resumed run rewrites what came after).
void truncate_log(const std::string& path, int64_t step) {
  std::ifstream in(path);
  if (!in) return;
  std::string line, kept;
  while (std::getline(in, line)) {
    try {
      auto j = nlohmann::json::parse(line);
      if (j.value("step", int64_t{0}) > step) continue;
    } catch (const nlohmann::json::exception&) {
      continue;  // a torn last line from a crash
    }
    kept += line + "\n";
  }
  write_file_atomic(path, kept);
}

// Rows of [masked input | output | original] for the first n samples.
cv::Mat sample_grid(const ModelConfig& mc, const torch::Tensor& images, const torch::Tensor& holes,
                    const torch::Tensor& output, int n) {
  n = std::min<int>(n, static_cast<int>(images.size(0)));
  ModelConfig shown = mc;  // show holes in the mean colour, whatever the model's fill
  shown.fill = HoleFill::Mean;
  auto masked = generator_input(shown, images, holes).narrow(1, 0, mc.channels);
  auto rows = torch::cat({masked.narrow(0, 0, n), output.narrow(0, 0, n), images.narrow(0, 0, n)}, 3);  // [n, C, S, 3S]
  auto pixels = to_uint8_nhwc(rows);  // [n, S, 3S, C]
  cv::Mat m(static_cast<int>(n * pixels.size(1)), static_cast<int>(pixels.size(2)), CV_8UC3, pixels.data_ptr<uint8_t>());
  return m.clone();
}

}  // namespace

TrainConfig resume_config(const std::string& run_dir) {
  const std::string ckpt = checkpoint_path(run_dir);
  if (!fs::exists(ckpt)) throw ModelFileError("cannot resume: '" + ckpt + "' does not exist");
  return read_checkpoint_config(ckpt);
}

// RUN_DIR/folder/step_0001234.ext: the per-step files of a run (samples, snapshots).
static std::string step_file(const std::string& run_dir, const char* folder, int64_t step, const char* ext) {
  char name[32];
  std::snprintf(name, sizeof(name), "step_%07lld", static_cast<long long>(step));
  return (fs::path(run_dir) / folder / (name + std::string(ext))).string();
}

TrainResult run_training(const TrainConfig& cfg_in, bool resume, const TrainCallbacks& cb) {
  TrainConfig cfg = cfg_in;
  cfg.model.validate();
  if (cfg.out_dir.empty()) throw UsageError("no run directory given (--out DIR)");
  if (cfg.steps < 1) throw UsageError("steps must be positive");
  if (cfg.log_every < 1 || cfg.save_every < 1)
    throw UsageError("--log-every and --save-every must be at least 1 step");
  if (cfg.keep_every < 0 || cfg.sample_every < 0)
    throw UsageError("--keep-every and --sample-every must be 0 (never) or a number of steps");
  if (cfg.lr_decay_from < 0 || cfg.lr_decay_from >= cfg.steps)
    throw UsageError("--lr-decay-from must be 0 (constant) or a step before --steps");
  if (cfg.model.output == OutputRegion::Center) cfg.mask.kind = MaskKind::Center;
  set_threads(cfg.threads);
  auto say = [&](const std::string& s) { if (cb.on_message) cb.on_message(s); };

  const DatasetFiles data = list_dataset(cfg.data.path, Split::Train);
  validate_crop(cfg.data);
  Trainer trainer(cfg);  // checks its own settings: a refused run writes nothing
  // A fine-tuning start is checked before anything is written too (a resume has its weights already).
  if (!resume && !cfg.init_from.empty()) trainer.init_generator(cfg.init_from);
  std::error_code ec;
  fs::create_directories(fs::path(cfg.out_dir) / "samples", ec);
  if (!ec && cfg.keep_every > 0) fs::create_directories(fs::path(cfg.out_dir) / "snapshots", ec);
  if (ec) throw OutputError("cannot create run directory '" + cfg.out_dir + "': " + ec.message());

  const std::string ckpt = checkpoint_path(cfg.out_dir);
  const std::string log_path = (fs::path(cfg.out_dir) / "log.jsonl").string();
  if (resume) {
    trainer.load_checkpoint(ckpt);
    if (cb.primary) {
      truncate_log(log_path, trainer.step());
      // Settings a resume may change, recorded where they take effect.
      std::ofstream(log_path, std::ios::app)
          << nlohmann::json{{"event", "resume"}, {"step", trainer.step()}, {"lr", cfg.lr},
                            {"g_lr_mult", cfg.g_lr_mult}, {"threads", cfg.threads}, {"steps", cfg.steps}}
                 .dump()
          << "\n";
    }
    say("resumed from " + ckpt + " at step " + std::to_string(trainer.step()));
  } else {
    if (fs::exists(ckpt))
      throw UsageError("'" + cfg.out_dir + "' already holds a run; use --resume to continue it or pick a new --out");
    if (cb.primary) {
      write_file_atomic((fs::path(cfg.out_dir) / "config.json").string(), nlohmann::json(cfg).dump(2) + "\n");
      write_file_atomic(log_path, "");
    }
  }
  if (cfg.precision == Precision::BF16 && !bf16_convolutions_fast()) say(bf16_slow_warning());
  say("training on " + std::to_string(data.files.size()) + " images (" + data.layout + " layout) from " +
      cfg.data.path);

  const int64_t first = trainer.step();
  // A center model's hole is its own square whatever the mask config says (the
  // trainer uses that square; a pre-fill must see the same hole).
  const cv::Mat fixed_hole = cfg.model.output == OutputRegion::Center ? center_hole_mask(cfg.model) : cv::Mat();
  TrainLoader loader(data.files, cfg.data, cfg.mask, cfg.model.image_size, cfg.batch_size, cfg.seed, first, say,
                     cfg.model.fill, fixed_hole);
  std::ofstream log(log_path, std::ios::app);
  TrainResult result;
  result.checkpoint = ckpt;

  // A fixed batch for sample grids, drawn apart from the training stream.
  torch::Tensor sample_images, sample_holes, sample_prefilled;
  if (cb.primary && cfg.sample_every > 0) {
    DataConfig sd = cfg.data;
    sd.loader_threads = 1;
    sd.prefetch_batches = 1;
    TrainLoader sample_loader(data.files, sd, cfg.mask, cfg.model.image_size, 8, cfg.seed ^ 0x5A5A5A5AULL, 0, {},
                              cfg.model.fill, fixed_hole);
    Batch b = sample_loader.next();
    sample_images = b.images;
    sample_holes = b.holes;
    sample_prefilled = b.prefilled;
  }

  auto save = [&](const char* why) {
    if (!cb.primary) return;
    trainer.save_checkpoint(ckpt);
    log << nlohmann::json{{"event", "checkpoint"}, {"step", trainer.step()}, {"why", why}}.dump() << "\n";
    log.flush();
  };

  const auto t0 = std::chrono::steady_clock::now();
  TrainProgress p;
  p.total_steps = cfg.steps;
  p.first_step = first;
  while (trainer.step() < cfg.steps) {
    if (cb.should_stop && cb.should_stop()) {
      save("interrupted");
      result.interrupted = true;
      break;
    }
    Batch batch = loader.next();
    StepStats st = trainer.train_step(batch.images, batch.holes, batch.prefilled);
    const int64_t s = trainer.step();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    p.step = s;
    p.loss_d = st.loss_d;
    p.loss_adv = st.loss_adv;
    p.loss_rec = st.loss_rec;
    p.loss_g = st.loss_g;
    p.elapsed_s = elapsed;
    p.images_per_s = static_cast<double>((s - first) * cfg.batch_size) / std::max(elapsed, 1e-9);
    if (!std::isfinite(st.loss_g) || !std::isfinite(st.loss_d))
      throw Error(kExitInternal, "training diverged at step " + std::to_string(s) +
                                     " (non-finite loss); the last good checkpoint is " + ckpt);
    if (cb.primary && (s % cfg.log_every == 0 || s == cfg.steps)) {
      nlohmann::json line = {{"step", s}, {"time_s", elapsed}, {"loss_d", st.loss_d},
                             {"loss_adv", st.loss_adv}, {"loss_rec", st.loss_rec}, {"loss_g", st.loss_g},
                             {"d_real", st.d_real}, {"d_fake", st.d_fake}, {"lr", st.lr},
                             {"images_per_s", p.images_per_s}};
      if (cfg.r1_gamma > 0) line["r1"] = st.r1;
      log << line.dump() << "\n";
      log.flush();
    }
    if (cb.primary && cfg.sample_every > 0 && (s % cfg.sample_every == 0 || s == cfg.steps)) {
      auto out = trainer.inpaint(sample_images, sample_holes, sample_prefilled);
      save_image(step_file(cfg.out_dir, "samples", s, ".png"), sample_grid(cfg.model, sample_images, sample_holes, out, 8));
    }
    if (s % cfg.save_every == 0 && s < cfg.steps) save("periodic");
    if (cb.primary && cfg.keep_every > 0 && s % cfg.keep_every == 0) {
      const std::string path = step_file(cfg.out_dir, "snapshots", s, ".ctxm");
      save_model_file(path, trainer.shipped_generator(), s, {{"train", cfg}});
      log << nlohmann::json{{"event", "snapshot"}, {"step", s}, {"path", path}}.dump() << "\n";
      log.flush();
    }
    if (cb.on_step) cb.on_step(p);
  }
  result.step = trainer.step();
  result.images_per_s = p.images_per_s;
  result.skipped_files = loader.stats().skipped_files;
  if (!result.interrupted) {
    save("final");
    if (cb.primary) {
      result.model = (fs::path(cfg.out_dir) / "model.ctxm").string();
      save_model_file(result.model, trainer.shipped_generator(), trainer.step(), {{"train", cfg}});
    }
  }
  return result;
}

}  // namespace ctxenc
