// test_train_run.cpp — whole training runs: the run folder, interruption and a bit-exact resume,
// fine-tuning starts, refusals that write nothing.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "ctxenc/train_run.h"
#include "model/model_file.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

namespace {
TrainConfig tiny_run(const std::string& out, int64_t steps) {
  TrainConfig t;
  t.model = tiny_model(32, Bottleneck::Channelwise, OutputRegion::Full);
  t.mask.kind = MaskKind::RandomRegion;
  t.data.path = photos_dir();
  t.out_dir = out;
  t.batch_size = 4;
  t.steps = steps;
  t.save_every = 2;
  t.sample_every = 3;
  t.keep_every = 3;
  t.log_every = 1;
  t.ema_decay = 0.9;  // the weight average must resume exactly too
  t.lr_decay_from = steps > 3 ? 3 : 0;  // and so must the learning-rate decay
  return t;
}
LoadedGenerator final_model(const std::string& dir) { return load_generator(dir + "/model.ctxm"); }
}  // namespace

TEST(TrainRun, WritesRunDirAndResumesBitExactAfterInterruption) {
  TempDir d;
  // Straight: 6 steps.
  TrainResult r = run_training(tiny_run(d / "straight", 6), false);
  EXPECT_EQ(r.step, 6);
  EXPECT_FALSE(r.interrupted);
  for (const char* f : {"config.json", "log.jsonl", "checkpoint.ctx", "model.ctxm", "samples/step_0000006.png",
                        "snapshots/step_0000003.ctxm", "snapshots/step_0000006.ctxm"})
    EXPECT_TRUE(fs::exists(d.path / "straight" / f)) << f;
  EXPECT_EQ(load_generator(d / "straight/snapshots/step_0000003.ctxm").step, 3);
  {
    auto last = load_generator(d / "straight/snapshots/step_0000006.ctxm"), model = final_model(d / "straight");
    for (const auto& p : model.generator->named_parameters())
      EXPECT_TRUE(torch::equal(p.value(), last.generator->named_parameters()[p.key()])) << p.key();
  }
  // Interrupted after 4 steps (like Ctrl-C), then resumed to 6.
  TrainCallbacks cb;
  int steps_seen = 0;
  cb.on_step = [&](const TrainProgress&) { ++steps_seen; };
  cb.should_stop = [&] { return steps_seen >= 4; };
  TrainResult r1 = run_training(tiny_run(d / "resumed", 6), false, cb);
  EXPECT_TRUE(r1.interrupted);
  EXPECT_EQ(r1.step, 4);
  EXPECT_FALSE(fs::exists(d.path / "resumed/model.ctxm"));
  TrainConfig again = resume_config(d / "resumed");
  EXPECT_EQ(again.steps, 6);
  TrainResult r2 = run_training(again, true);
  EXPECT_EQ(r2.step, 6);
  auto a = final_model(d / "straight"), b = final_model(d / "resumed");
  for (const auto& p : a.generator->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), b.generator->named_parameters()[p.key()])) << p.key();
  // The resumed log has each step once, with the decayed learning rates:
  // constant to step 3, then falling linearly to 0 at step 6.
  std::ifstream log(d / "resumed/log.jsonl");
  std::string line;
  std::vector<double> lrs;
  while (std::getline(log, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("loss_rec")) lrs.push_back(j.at("lr").get<double>() / 2e-4);
  }
  ASSERT_EQ(lrs.size(), 6u);
  const double expected[6] = {1, 1, 1, 1, 2.0 / 3, 1.0 / 3};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(lrs[i], expected[i], 1e-9) << "step " << i + 1;
}

TEST(TrainRun, InitFromStartsGeneratorFromAModelAndRefusesAnotherArchitecture) {
  TempDir d;
  run_training(tiny_run(d / "first", 2), false);
  const auto first = final_model(d / "first");
  // A run started from it with the learning rate at 0 ships exactly its weights; the same run without
  // init_from ships its own random init.
  TrainConfig fine = tiny_run(d / "fine", 1);
  fine.init_from = d / "first/model.ctxm";
  fine.lr = 0;
  run_training(fine, false);
  TrainConfig fresh = tiny_run(d / "fresh", 1);
  fresh.lr = 0;
  run_training(fresh, false);
  auto same_weights = [&](const LoadedGenerator& g) {  // up to the weight average's rounding
    for (const auto& p : first.generator->named_parameters())
      if (!torch::allclose(p.value(), g.generator->named_parameters()[p.key()], /*rtol=*/1e-6, /*atol=*/1e-7))
        return false;
    return true;
  };
  EXPECT_TRUE(same_weights(final_model(d / "fine")));
  EXPECT_FALSE(same_weights(final_model(d / "fresh")));
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(d / "fine/config.json")).at("init_from"), fine.init_from);
  // Another architecture, or no file: refused before a run directory is made.
  TrainConfig wider = tiny_run(d / "wider", 1);
  wider.model.ngf *= 2;
  wider.init_from = fine.init_from;
  EXPECT_THROW(run_training(wider, false), ModelFileError);
  EXPECT_FALSE(fs::exists(d.path / "wider"));
  TrainConfig missing = tiny_run(d / "missing", 1);
  missing.init_from = d / "none.ctxm";
  EXPECT_THROW(run_training(missing, false), ModelFileError);
  EXPECT_FALSE(fs::exists(d.path / "missing"));
}

TEST(TrainRun, RefusesToOverwriteAnExistingRun) {
  TempDir d;
  run_training(tiny_run(d / "run", 1), false);
  EXPECT_THROW(run_training(tiny_run(d / "run", 1), false), UsageError);
}

// A run folder another process is training in is refused, naming that process;
// the lock goes with its holder.
TEST(TrainRun, AFolderInUseIsRefusedNamingItsHolder) {
  TempDir d;
  run_training(tiny_run(d / "run", 1), false);
  const std::string lock = d / "run/lock";
  ASSERT_TRUE(fs::exists(lock));
  const int fd = ::open(lock.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);  // as another `ctxenc train` holds it
  ASSERT_EQ(::ftruncate(fd, 0), 0);
  ASSERT_EQ(::pwrite(fd, "4242\n", 5, 0), 5);
  TrainConfig t = tiny_run(d / "run", 2);
  try {
    run_training(t, /*resume=*/true);
    ADD_FAILURE() << "a locked run folder was trained in";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("pid 4242"), std::string::npos) << e.what();
  }
  EXPECT_EQ(final_model(d / "run").step, 1);  // untouched
  ::close(fd);                                // the holder ends
  EXPECT_EQ(run_training(t, /*resume=*/true).step, 2);
}
