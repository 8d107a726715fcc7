// train_run.cpp — the training driver: the run folder, the loader, the step
// loop, logs, sample grids, snapshots, checkpoints and interruption.
#include "ctxenc/train_run.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <regex>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "io/dataset.h"
#include "model/hole_mapping.h"
#include "model/model_file.h"
#include "train/loader.h"
#include "train/trainer.h"

namespace ctxenc {
namespace fs = std::filesystem;
namespace {

std::string checkpoint_path(const std::string& dir) { return (fs::path(dir) / "checkpoint.ctx").string(); }

// RUN_DIR/folder/step_0001234.ext: the per-step files of a run (samples, snapshots).
std::string step_file(const std::string& run_dir, const char* folder, int64_t step, const char* ext) {
  char name[32];
  std::snprintf(name, sizeof(name), "step_%07lld", static_cast<long long>(step));
  return (fs::path(run_dir) / folder / (name + std::string(ext))).string();
}

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

// An exclusive lock on RUN_DIR/lock for as long as a run holds it: a second
// run on the same folder is refused, naming the holder's PID. The kernel
// drops the lock when its process ends, however it ends.
class RunLock {
 public:
  explicit RunLock(const std::string& dir) {
    const std::string path = (fs::path(dir) / "lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw OutputError("cannot create '" + path + "': " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      char pid[32] = {0};
      const ssize_t n = ::pread(fd_, pid, sizeof(pid) - 1, 0);
      ::close(fd_);
      std::string holder = n > 0 ? std::string(pid, static_cast<size_t>(n)) : "unknown";
      holder.erase(holder.find_last_not_of(" \n") + 1);
      throw UsageError("'" + dir + "' is in use by another training run (pid " + holder + ")");
    }
    const std::string me = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
      ::close(fd_);
      throw OutputError("cannot write '" + path + "'");
    }
  }
  ~RunLock() { ::close(fd_); }
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

// Temp files (NAME.tmp.PID, see write_file_atomic) that a writer killed
// mid-write left in the run folder. The lock is ours, so their writers are gone.
void remove_stale_temp_files(const std::string& dir) {
  static const std::regex temp(R"(.*\.tmp\.\d+)");
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file(ec) && std::regex_match(it->path().filename().string(), temp)) fs::remove(it->path(), ec);
}

// The run folder's files, its lock, and its log open for appending.
struct RunFolder {
  std::string dir, checkpoint, log_path;
  std::unique_ptr<RunLock> lock;
  std::ofstream log;

  void write(const nlohmann::json& line) {
    log << line.dump() << "\n";
    log.flush();
  }
};

// Creates and locks the run folder, then starts it (a new run: config.json and
// an empty log) or continues it (a resume: the trainer's checkpoint, the log
// up to its step). Nothing is written before every setting has been checked.
void open_run_folder(RunFolder& run, const TrainConfig& cfg, bool resume, Trainer& trainer) {
  run.dir = cfg.out_dir;
  run.checkpoint = checkpoint_path(cfg.out_dir);
  run.log_path = (fs::path(cfg.out_dir) / "log.jsonl").string();
  std::error_code ec;
  fs::create_directories(fs::path(cfg.out_dir) / "samples", ec);
  if (!ec && cfg.keep_every > 0) fs::create_directories(fs::path(cfg.out_dir) / "snapshots", ec);
  if (ec) throw OutputError("cannot create run directory '" + cfg.out_dir + "': " + ec.message());
  run.lock = std::make_unique<RunLock>(cfg.out_dir);  // before a byte of the run is read or written
  remove_stale_temp_files(cfg.out_dir);
  if (resume) {
    trainer.load_checkpoint(run.checkpoint);
    truncate_log(run.log_path, trainer.step());
  } else {
    if (fs::exists(run.checkpoint))
      throw UsageError("'" + cfg.out_dir + "' already holds a run; resume it or pick a new run directory");
    write_file_atomic((fs::path(cfg.out_dir) / "config.json").string(), nlohmann::json(cfg).dump(2) + "\n");
    write_file_atomic(run.log_path, "");
  }
  run.log.open(run.log_path, std::ios::app);
  // Settings a resume may change, recorded where they take effect.
  if (resume)
    run.write({{"event", "resume"}, {"step", trainer.step()}, {"lr", cfg.lr}, {"g_lr_mult", cfg.g_lr_mult},
               {"threads", cfg.threads}, {"steps", cfg.steps}});
}

// A fixed batch of 8 for sample grids, drawn apart from the training stream.
Batch sample_batch(const std::vector<std::string>& files, const TrainConfig& cfg, const HoleMapping& holes) {
  DataConfig sd = cfg.data;
  sd.loader_threads = 1;
  sd.prefetch_batches = 1;
  TrainLoader loader(files, sd, cfg.mask, holes, /*batch_size=*/8, cfg.seed ^ 0x5A5A5A5AULL, /*first_step=*/0);
  return loader.next();
}

// Rows of [masked input | output | original] for the first n samples.
cv::Mat sample_grid(const HoleMapping& holes, const Batch& b, const torch::Tensor& output, int n) {
  const ModelConfig& mc = holes.config();
  n = std::min<int>(n, static_cast<int>(b.images.size(0)));
  ModelConfig shown = mc;  // show holes in the mean colour, whatever the model's fill
  shown.fill = HoleFill::Mean;
  auto masked = HoleMapping(shown).input(b.images, b.holes).narrow(1, 0, mc.channels);
  auto rows = torch::cat({masked.narrow(0, 0, n), output.narrow(0, 0, n), b.images.narrow(0, 0, n)}, 3);  // [n, C, S, 3S]
  auto pixels = to_uint8_nhwc(rows);  // [n, S, 3S, C]
  cv::Mat m(static_cast<int>(n * pixels.size(1)), static_cast<int>(pixels.size(2)), CV_8UC3, pixels.data_ptr<uint8_t>());
  return m.clone();
}

nlohmann::json log_line(int64_t step, double elapsed, const StepStats& st, double images_per_s, bool r1) {
  nlohmann::json line = {{"step", step},         {"time_s", elapsed},         {"loss_d", st.loss_d},
                         {"loss_adv", st.loss_adv}, {"loss_rec", st.loss_rec}, {"loss_g", st.loss_g},
                         {"d_real", st.d_real},   {"d_fake", st.d_fake},       {"lr", st.lr},
                         {"images_per_s", images_per_s}};
  if (r1) line["r1"] = st.r1;
  return line;
}

void save_checkpoint(RunFolder& run, const Trainer& trainer, const char* why) {
  trainer.save_checkpoint(run.checkpoint);
  run.write({{"event", "checkpoint"}, {"step", trainer.step()}, {"why", why}});
}

// What a step leaves in the run folder, each at its own interval: a log line,
// a sample grid, a checkpoint, a kept model snapshot.
void write_step_outputs(RunFolder& run, const TrainConfig& cfg, Trainer& trainer, const HoleMapping& holes,
                        const Batch& samples, const StepStats& st, const TrainProgress& p) {
  const int64_t s = p.step;
  if (s % cfg.log_every == 0 || s == cfg.steps) run.write(log_line(s, p.elapsed_s, st, p.images_per_s, cfg.r1_gamma > 0));
  if (cfg.sample_every > 0 && (s % cfg.sample_every == 0 || s == cfg.steps)) {
    auto out = trainer.inpaint(samples.images, samples.holes, samples.prefilled);
    save_image(step_file(cfg.out_dir, "samples", s, ".png"), sample_grid(holes, samples, out, 8));
  }
  if (s % cfg.save_every == 0 && s < cfg.steps) save_checkpoint(run, trainer, "periodic");
  if (cfg.keep_every > 0 && s % cfg.keep_every == 0) {
    const std::string path = step_file(cfg.out_dir, "snapshots", s, ".ctxm");
    save_model_file(path, trainer.shipped_generator(), s, {{"train", cfg}});
    run.write({{"event", "snapshot"}, {"step", s}, {"path", path}});
  }
}

}  // namespace

TrainConfig resume_config(const std::string& run_dir) {
  const std::string ckpt = checkpoint_path(run_dir);
  if (!fs::exists(ckpt)) throw ModelFileError("cannot resume: '" + ckpt + "' does not exist");
  return read_checkpoint_config(ckpt);
}

TrainResult run_training(const TrainConfig& cfg_in, bool resume, const TrainCallbacks& cb) {
  auto say = [&](const std::string& s) {
    if (cb.on_message) cb.on_message(s);
  };
  // ---- every check before anything is written ---------------------------------------
  if (cfg_in.out_dir.empty()) throw UsageError("no run directory given (out_dir)");
  cfg_in.validate();
  TrainConfig cfg = cfg_in;
  const HoleMapping holes(cfg.model);
  cfg.mask = holes.training_masks(cfg.mask);
  set_threads(cfg.threads);
  const DatasetFiles data = list_dataset(cfg.data.path, Split::Train);
  Trainer trainer(cfg);
  // A fine-tuning start is checked here too (a resume has its weights already).
  if (!resume && !cfg.init_from.empty()) trainer.init_generator(cfg.init_from);

  // ---- the run folder, the data ------------------------------------------------------
  RunFolder run;
  open_run_folder(run, cfg, resume, trainer);
  if (resume) say("resumed from " + run.checkpoint + " at step " + std::to_string(trainer.step()));
  if (cfg.precision == Precision::BF16 && !bf16_convolutions_fast()) say(bf16_slow_warning());
  say("training on " + std::to_string(data.files.size()) + " images (" + data.layout + " layout) from " +
      cfg.data.path);
  const int64_t first = trainer.step();
  TrainLoader loader(data.files, cfg.data, cfg.mask, holes, cfg.batch_size, cfg.seed, first, say);
  const Batch samples = cfg.sample_every > 0 ? sample_batch(data.files, cfg, holes) : Batch{};

  // ---- the steps ---------------------------------------------------------------------
  TrainResult result;
  result.checkpoint = run.checkpoint;
  const auto t0 = std::chrono::steady_clock::now();
  TrainProgress p;
  p.total_steps = cfg.steps;
  p.first_step = first;
  while (trainer.step() < cfg.steps) {
    if (cb.should_stop && cb.should_stop()) {
      save_checkpoint(run, trainer, "interrupted");
      result.interrupted = true;
      break;
    }
    Batch batch = loader.next();
    const StepStats st = trainer.train_step(batch.images, batch.holes, batch.prefilled);
    const int64_t s = trainer.step();
    p.step = s;
    p.loss_d = st.loss_d;
    p.loss_adv = st.loss_adv;
    p.loss_rec = st.loss_rec;
    p.loss_g = st.loss_g;
    p.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    p.images_per_s = static_cast<double>((s - first) * cfg.batch_size) / std::max(p.elapsed_s, 1e-9);
    if (!std::isfinite(st.loss_g) || !std::isfinite(st.loss_d))
      throw Error(kExitInternal, "training diverged at step " + std::to_string(s) +
                                     " (non-finite loss); the last good checkpoint is " + run.checkpoint);
    write_step_outputs(run, cfg, trainer, holes, samples, st, p);
    if (cb.on_step) cb.on_step(p);
  }
  result.step = trainer.step();
  result.images_per_s = p.images_per_s;
  result.skipped_files = loader.skipped_files();
  if (!result.interrupted) {
    save_checkpoint(run, trainer, "final");
    result.model = (fs::path(cfg.out_dir) / "model.ctxm").string();
    save_model_file(result.model, trainer.shipped_generator(), trainer.step(), {{"train", cfg}});
  }
  return result;
}

}  // namespace ctxenc
