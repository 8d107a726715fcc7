// test_trainer.cpp — the training step: a small model overfitting real photos, learning-rate
// decay, instance noise, R1, the weight average, and checkpoints that resume exactly.
#include <gtest/gtest.h>

#include <filesystem>

#include "ctxenc/errors.h"
#include "io/dataset.h"
#include "model/hole_mapping.h"
#include "model/model_file.h"
#include "train/loader.h"
#include "ctxenc/train_run.h"
#include "train/trainer.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

namespace {
// A center model at 32 px, batch 2, and a seeded random batch for it: for tests of a single step.
TrainConfig tiny_step_config() {
  TrainConfig t;
  t.model = tiny_model(32, Bottleneck::Channelwise);
  t.batch_size = 2;
  return t;
}
std::pair<torch::Tensor, torch::Tensor> random_batch() {
  torch::manual_seed(3);
  return {torch::rand({2, 3, 32, 32}) * 2 - 1, torch::zeros({2, 1, 32, 32})};
}
}  // namespace

TEST(Trainer, ResumeContinuesExactlyWhereItStopped) {
  TempDir dir;
  TrainConfig t = tiny_train();
  Trainer straight(t);
  for (uint64_t s = 0; s < 5; ++s) {
    auto [img, hole] = seeded_batch(100 + s);
    straight.train_step(img, hole);
  }
  Trainer first(t);
  for (uint64_t s = 0; s < 3; ++s) {
    auto [img, hole] = seeded_batch(100 + s);
    first.train_step(img, hole);
  }
  first.save_checkpoint(dir / "c.ctx");
  TrainConfig other = t;
  other.seed = 999;  // different init: everything must come from the file
  Trainer resumed(other);
  resumed.load_checkpoint(dir / "c.ctx");
  EXPECT_EQ(resumed.step(), 3);
  for (uint64_t s = 3; s < 5; ++s) {
    auto [img, hole] = seeded_batch(100 + s);
    resumed.train_step(img, hole);
  }
  expect_same_weights(*straight.generator(), *resumed.generator());
  expect_same_weights(*straight.discriminator(), *resumed.discriminator());
}

// A resume takes the learning rate of its own config (`--resume --lr X`), not
// the one stored with the optimizer state: with lr 0 no weight moves.
TEST(Trainer, ResumeTakesTheLearningRateOfItsConfig) {
  TempDir dir;
  TrainConfig t = tiny_train();
  Trainer first(t);
  auto [img, hole] = seeded_batch(200);
  first.train_step(img, hole);
  first.save_checkpoint(dir / "c.ctx");
  TrainConfig frozen = t;
  frozen.lr = 0.0;
  Trainer resumed(frozen);
  resumed.load_checkpoint(dir / "c.ctx");
  std::vector<torch::Tensor> before;
  for (const auto& p : resumed.generator()->parameters()) before.push_back(p.detach().clone());
  resumed.train_step(img, hole);
  const auto after = resumed.generator()->parameters();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i])) << "parameter " << i;
}

TEST(Trainer, WeightAverageFollowsAndResumes) {
  TempDir dir;
  TrainConfig t = tiny_train();
  t.ema_decay = 0.5;
  Trainer a(t);
  for (uint64_t s = 0; s < 3; ++s) {
    auto [img, hole] = seeded_batch(300 + s);
    a.train_step(img, hole);
  }
  // The average differs from the live weights but stays near them.
  auto live = a.generator()->parameters(), avg = a.shipped_generator()->parameters();
  bool differs = false;
  for (size_t i = 0; i < live.size(); ++i) differs |= !torch::equal(live[i], avg[i]);
  EXPECT_TRUE(differs);
  a.save_checkpoint(dir / "c.ctx");
  Trainer b(t);
  b.load_checkpoint(dir / "c.ctx");
  expect_same_weights(*a.shipped_generator(), *b.shipped_generator());
}

TEST(Trainer, ResumeRefusesADifferentModelConfig) {
  TempDir dir;
  Trainer a(tiny_train(Bottleneck::Channelwise));
  a.save_checkpoint(dir / "c.ctx");
  Trainer b(tiny_train(Bottleneck::Dense));
  EXPECT_THROW(b.load_checkpoint(dir / "c.ctx"), ModelFileError);
}

TEST(Train, SmallModelOverfitsAHandfulOfRealPhotos) {
  // 8 real photos, centre-cropped to 64x64, one fixed batch.
  std::vector<torch::Tensor> imgs;
  for (const auto& f : photos()) {
    cv::Mat rgb = load_image_rgb(f), sq, small;
    const int s = std::min(rgb.cols, rgb.rows);
    cv::resize(rgb(cv::Rect((rgb.cols - s) / 2, (rgb.rows - s) / 2, s, s)), small, cv::Size(64, 64), 0, 0,
               cv::INTER_AREA);
    imgs.push_back(torch::from_blob(small.data, {1, 64, 64, 3}, torch::kUInt8).clone());
  }
  auto images = to_model_range(torch::cat(imgs));
  TrainConfig t;
  t.model = tiny_model(64, Bottleneck::Channelwise);
  t.model.nef = t.model.ngf = t.model.ndf = 32;
  t.model.overlap = 4;
  t.batch_size = 8;
  Trainer trainer(t);
  auto holes = torch::zeros({8, 1, 64, 64});
  double start = 0, end = 0;
  const int steps = 300;
  for (int i = 0; i < steps; ++i) {
    const double l = trainer.train_step(images, holes).loss_rec;
    if (i < 5) start += l / 5;
    if (i >= steps - 5) end += l / 5;
  }
  EXPECT_GT(start / end, 5.0) << "masked L2 went from " << start << " to " << end;
  std::printf("overfit: masked L2 %.4f -> %.4f (%.1fx) in %d steps\n", start, end, start / end, steps);
}

TEST(Train, LearningRateDecaysLinearlyToZeroInTheOptimizers) {
  TrainConfig t;
  t.model = tiny_model(32, Bottleneck::Channelwise);
  t.batch_size = 2;
  t.steps = 5;
  t.lr_decay_from = 2;
  Trainer trainer(t);
  auto images = torch::zeros({2, 3, 32, 32}), holes = torch::zeros({2, 1, 32, 32});
  const double expected[5] = {1, 1, 1, 2.0 / 3, 1.0 / 3};  // steps 0..4; 0 would be step 5
  for (int i = 0; i < 5; ++i) {
    EXPECT_NEAR(trainer.train_step(images, holes).lr, t.lr * expected[i], 1e-12) << "step " << i;
    EXPECT_NEAR(trainer.generator_lr(), t.lr * expected[i], 1e-12) << "step " << i;
  }
  EXPECT_EQ(trainer.lr_factor(), 0.0);
  t.lr_decay_from = 5;  // must come before the last step
  TempDir d;
  t.out_dir = d / "never";
  EXPECT_THROW(run_training(t, false), UsageError);
  EXPECT_FALSE(fs::exists(d.path / "never"));
}

TEST(Train, InstanceNoiseChangesOnlyWhatTheDiscriminatorSees) {
  TrainConfig t = tiny_step_config();
  auto [images, holes] = random_batch();
  Trainer plain(t);
  const StepStats a = plain.train_step(images, holes);
  t.d_input_noise = 0.5;
  Trainer noisy(t);
  const StepStats b = noisy.train_step(images, holes);
  EXPECT_EQ(a.loss_rec, b.loss_rec);  // same seed, same generator forward
  EXPECT_NE(a.loss_d, b.loss_d);      // D judged noisy regions
  t.d_input_noise = -0.1;
  EXPECT_THROW(Trainer{t}, UsageError);
}

TEST(Train, R1PenaltyAddsGammaHalfTheRealGradientNormToTheDiscriminatorLoss) {
  TrainConfig t = tiny_step_config();
  auto [images, holes] = random_batch();
  Trainer plain(t);
  const StepStats a = plain.train_step(images, holes);
  t.r1_gamma = 10.0;
  Trainer penalised(t);
  const StepStats b = penalised.train_step(images, holes);
  EXPECT_EQ(a.r1, 0.0);
  EXPECT_GT(b.r1, 0.0);
  EXPECT_EQ(a.loss_rec, b.loss_rec);  // same seed, same generator forward
  // Same D weights before the step, so the BCE parts agree and the penalty is the difference.
  EXPECT_NEAR(b.loss_d, a.loss_d + 5.0 * b.r1, 1e-4 * (1.0 + b.loss_d));
  // The penalty reaches D's weights: after one step D judges differently.
  const StepStats a2 = plain.train_step(images, holes);
  const StepStats b2 = penalised.train_step(images, holes);
  EXPECT_NE(a2.d_real, b2.d_real);
  t.r1_gamma = -1.0;
  EXPECT_THROW(Trainer{t}, UsageError);
}

TEST(Train, WeightAverageWithoutWarmupAveragesAtItsDecayFromTheFirstStep) {
  TrainConfig t = tiny_step_config();
  t.ema_decay = 0.9;
  auto [images, holes] = random_batch();
  for (bool warmup : {true, false}) {
    t.ema_warmup = warmup;
    Trainer trainer(t);
    std::vector<torch::Tensor> init;
    for (const auto& p : trainer.generator()->parameters()) init.push_back(p.detach().clone());
    trainer.train_step(images, holes);
    const double keep = warmup ? 0.1 : 0.9;  // step 0 of the warm-up: (1 + 0) / (10 + 0)
    auto g = trainer.generator()->parameters(), avg = trainer.shipped_generator()->parameters();
    for (size_t i = 0; i < g.size(); ++i)
      EXPECT_TRUE(torch::allclose(avg[i], keep * init[i] + (1 - keep) * g[i].detach(), 1e-5, 1e-6))
          << "warmup " << warmup << ", parameter " << i;
  }
}
