// test_train.cpp — the loader (layouts, determinism, corrupt files), a small
// model overfitting real photos, and whole runs with interruption and resume.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

#include "ctxenc/checkpoint.h"
#include "ctxenc/dataset.h"
#include "ctxenc/errors.h"
#include "ctxenc/holes.h"
#include "ctxenc/image_io.h"
#include "ctxenc/train_run.h"
#include "ctxenc/trainer.h"
#include "test_util.h"

using namespace ctxenc;
using ctxenc::test::photos_dir;
using ctxenc::test::TempDir;
using ctxenc::test::tiny_model;
namespace fs = std::filesystem;

namespace {
std::vector<std::string> photos() { return list_dataset(photos_dir()).files; }
MaskConfig free_form() {
  MaskConfig m;
  m.kind = MaskKind::FreeForm;
  return m;
}
}  // namespace

TEST(Dataset, ResolvesEveryLayout) {
  TempDir d;
  auto files = photos();
  ASSERT_EQ(files.size(), 8u);
  EXPECT_EQ(list_dataset(photos_dir()).layout, "folder");
  // train/ + val/ split folders, with an ImageNet-style class level inside.
  fs::create_directories(d.path / "split/train/cats");
  fs::create_directories(d.path / "split/val/dogs");
  fs::copy_file(files[0], d.path / "split/train/cats/a.jpg");
  fs::copy_file(files[1], d.path / "split/train/cats/b.jpg");
  fs::copy_file(files[2], d.path / "split/val/dogs/c.jpg");
  EXPECT_EQ(list_dataset(d / "split", Split::Train).files.size(), 2u);
  EXPECT_EQ(list_dataset(d / "split", Split::Val).files.size(), 1u);
  EXPECT_EQ(list_dataset(d / "split").layout, "split");
  // Paris StreetView.
  fs::create_directories(d.path / "paris/paris_train_original");
  fs::create_directories(d.path / "paris/paris_eval_gt");
  fs::copy_file(files[3], d.path / "paris/paris_train_original/x.jpg");
  fs::copy_file(files[4], d.path / "paris/paris_eval_gt/y.jpg");
  fs::copy_file(files[5], d.path / "paris/paris_eval_gt/z.jpg");
  EXPECT_EQ(list_dataset(d / "paris").layout, "paris");
  EXPECT_EQ(list_dataset(d / "paris", Split::Val).files.size(), 2u);
  // A file list, relative to the list's folder, with comments.
  std::ofstream(d / "paris/list.txt") << "# comment\nparis_eval_gt/y.jpg\n\n" << files[6] << "\n";
  auto l = list_dataset(d / "paris/list.txt");
  EXPECT_EQ(l.layout, "list");
  ASSERT_EQ(l.files.size(), 2u);
  EXPECT_TRUE(fs::exists(l.files[0]));
  // Errors.
  EXPECT_THROW(list_dataset(d / "missing"), DataError);
  fs::create_directories(d.path / "empty");
  EXPECT_THROW(list_dataset(d / "empty"), DataError);
}

TEST(Dataset, AugmentedCropsHaveTheModelSizeAndAreSeeded) {
  cv::Mat img = load_image_rgb(photos()[0]);
  DataConfig dc;
  cv::Mat a = augment_crop(img, dc, 32, 5), b = augment_crop(img, dc, 32, 5), c = augment_crop(img, dc, 32, 6);
  EXPECT_EQ(a.size(), cv::Size(32, 32));
  EXPECT_EQ(cv::norm(a, b, cv::NORM_L1), 0.0);
  EXPECT_GT(cv::norm(a, c, cv::NORM_L1), 0.0);
}

TEST(Dataset, WholeFrameSqueezesThePhotoAndReflectsPastIt) {
  // A 60x40 photo: left half red, right half blue, a green band in its top 4 rows.
  cv::Mat img(40, 60, CV_8UC3, cv::Scalar(255, 0, 0));
  img(cv::Rect(30, 0, 30, 40)).setTo(cv::Scalar(0, 0, 255));
  img(cv::Rect(0, 0, 60, 4)).setTo(cv::Scalar(0, 255, 0));
  DataConfig dc;
  dc.frame = CropFrame::Whole;
  dc.hflip = false;
  dc.max_aspect = 1.0;
  dc.min_crop = dc.max_crop = 1.0;  // exactly what eval feeds: the whole photo squeezed
  cv::Mat squeezed;
  cv::resize(img, squeezed, cv::Size(20, 20), 0, 0, cv::INTER_AREA);
  EXPECT_EQ(cv::norm(augment_crop(img, dc, 20, 7), squeezed, cv::NORM_L1), 0.0);
  // Window 1.5x each side: the photo fills the middle two thirds, its border is mirrored around it.
  dc.min_crop = dc.max_crop = 1.5;
  for (uint64_t seed : {1, 2, 3}) {
    cv::Mat w = augment_crop(img, dc, 90, seed);  // 90x90 from a 90x60 window: x 1, y 1.5
    ASSERT_EQ(w.size(), cv::Size(90, 90));
    // Left and right thirds: reflections of the red and blue halves.
    EXPECT_EQ(w.at<cv::Vec3b>(45, 2), cv::Vec3b(255, 0, 0)) << seed;
    EXPECT_EQ(w.at<cv::Vec3b>(45, 87), cv::Vec3b(0, 0, 255)) << seed;
    // Wherever the photo sits, its green top band (and the band's mirror image above it) is in the
    // upper half of the window, and the lower half, photo or mirrored bottom, has none.
    int green_top = 0, green_bottom = 0;
    for (int y = 0; y < 90; ++y) (y < 45 ? green_top : green_bottom) += w.at<cv::Vec3b>(y, 20)[1] > 200;
    EXPECT_GT(green_top, 0) << seed;
    EXPECT_EQ(green_bottom, 0) << seed;
  }
  // Settings augment_crop cannot honour are refused.
  dc.min_crop = 1.6;
  EXPECT_THROW(validate_crop(dc), UsageError);  // above max_crop
  dc.frame = CropFrame::ShortSide;
  dc.min_crop = 0.5;
  EXPECT_THROW(validate_crop(dc), UsageError);  // max_crop 1.5 with a short-side frame
  dc.max_crop = 1.0;
  EXPECT_NO_THROW(validate_crop(dc));
}

TEST(Loader, BatchesDependOnlyOnSeedAndStep) {
  DataConfig one, three;
  one.loader_threads = 1;
  three.loader_threads = 3;
  three.prefetch_batches = 3;
  TrainLoader a(photos(), one, free_form(), 32, 5, 7, 0), b(photos(), three, free_form(), 32, 5, 7, 0);
  std::vector<Batch> first;
  for (int i = 0; i < 4; ++i) {
    Batch x = a.next(), y = b.next();
    EXPECT_EQ(x.step, i);
    EXPECT_TRUE(torch::equal(x.images, y.images)) << i;
    EXPECT_TRUE(torch::equal(x.holes, y.holes)) << i;
    first.push_back(x);
  }
  EXPECT_FALSE(torch::equal(first[0].images, first[1].images));
  // Starting at step 1 or 2 (a resumed run) gives those batches again, whatever
  // the step's position in the prefetch ring.
  for (int start : {1, 2}) {
    TrainLoader c(photos(), three, free_form(), 32, 5, 7, start);
    for (int s = start; s < 4; ++s) {
      Batch b = c.next();
      EXPECT_EQ(b.step, s);
      EXPECT_TRUE(torch::equal(b.images, first[s].images)) << start << " " << s;
      EXPECT_TRUE(torch::equal(b.holes, first[s].holes)) << start << " " << s;
    }
  }
  // Value range, layout and hole ratio.
  EXPECT_EQ(first[0].images.sizes().vec(), (std::vector<int64_t>{5, 3, 32, 32}));
  EXPECT_TRUE(first[0].images.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_LE(first[0].images.abs().max().item<float>(), 1.0f);
  EXPECT_NEAR(first[0].holes.mean().item<float>(), 0.25f, 0.03f);
}

TEST(Loader, TeleaPrefillFillsOnlyTheHoles) {
  DataConfig dc;
  dc.loader_threads = 2;
  TrainLoader loader(photos(), dc, free_form(), 32, 4, 3, 0, {}, HoleFill::Telea);
  Batch b = loader.next();
  ASSERT_TRUE(b.prefilled.defined());
  EXPECT_EQ(b.prefilled.sizes(), b.images.sizes());
  auto known = (b.holes == 0).expand_as(b.images);
  EXPECT_TRUE(torch::allclose(b.prefilled.masked_select(known), b.images.masked_select(known), 0, 1e-6));
  auto hole = (b.holes > 0).expand_as(b.images);
  EXPECT_FALSE(torch::equal(b.prefilled.masked_select(hole), b.images.masked_select(hole)));
  TrainLoader plain(photos(), dc, free_form(), 32, 4, 3, 0);
  EXPECT_FALSE(plain.next().prefilled.defined());
}

// A center model's loader hands out its own square as every hole, and the
// pre-fill fills that square (the hole the trainer and the inpainter use).
TEST(Loader, FixedHoleIsEverySamplesHoleAndThePrefillsHole) {
  DataConfig dc;
  dc.loader_threads = 2;
  ModelConfig mc;
  mc.image_size = 32;
  mc.overlap = 2;
  const cv::Mat square = center_hole_mask(mc);  // 12x12 at (10, 10)
  ASSERT_EQ(cv::countNonZero(square), 12 * 12);
  TrainLoader loader(photos(), dc, free_form(), 32, 4, 3, 0, {}, HoleFill::Telea, square);
  Batch b = loader.next();
  EXPECT_TRUE(torch::equal(b.holes, center_hole(mc).expand({4, 1, 32, 32})));
  auto known = (b.holes == 0).expand_as(b.images);
  EXPECT_TRUE(torch::allclose(b.prefilled.masked_select(known), b.images.masked_select(known), 0, 1e-6));
  // Inside the square: Telea's fill of the square, not the photo.
  cv::Mat crop(32, 32, CV_32FC3, b.images[0].permute({1, 2, 0}).contiguous().data_ptr<float>()), crop8, telea;
  crop.convertTo(crop8, CV_8UC3, 127.5, 127.5);
  cv::inpaint(crop8, square, telea, 5.0, cv::INPAINT_TELEA);
  auto want = to_model_range(torch::from_blob(telea.data, {1, 32, 32, 3}, torch::kUInt8).clone());
  EXPECT_LT((b.prefilled[0] - want[0]).abs().max().item<float>(), 2.5f / 127.5f);
  EXPECT_THROW(TrainLoader(photos(), dc, free_form(), 32, 4, 3, 0, {}, HoleFill::Telea, cv::Mat::zeros(16, 16, CV_8UC1)),
               UsageError);
}

TEST(Loader, CorruptFilesAreSkippedWarnedAndCounted) {
  TempDir d;
  for (const auto& f : photos()) fs::copy_file(f, d.path / fs::path(f).filename());
  std::ofstream(d / "garbage.jpg") << "this is not a jpeg";
  std::ofstream(d / "empty.png");
  {
    std::ifstream in(photos()[0], std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(d / "truncated.jpg", std::ios::binary) << bytes.substr(0, 200);
  }
  auto files = list_dataset(d.path.string()).files;
  ASSERT_EQ(files.size(), 11u);
  std::vector<std::string> warnings;
  std::mutex mu;
  DataConfig dc;
  dc.loader_threads = 2;
  TrainLoader loader(files, dc, free_form(), 32, 8, 1, 0, [&](const std::string& w) {
    std::lock_guard<std::mutex> l(mu);
    warnings.push_back(w);
  });
  for (int i = 0; i < 6; ++i) {  // 48 samples: every file is visited
    Batch b = loader.next();
    EXPECT_TRUE(torch::isfinite(b.images).all().item<bool>());
  }
  EXPECT_GE(loader.stats().skipped_files, 2);  // garbage + empty (truncated JPEGs may decode partially)
  EXPECT_EQ(static_cast<int64_t>(warnings.size()), loader.stats().skipped_files);
  for (const auto& w : warnings) EXPECT_NE(w.find("skipping"), std::string::npos);
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

TEST(TrainRun, RefusesToOverwriteAnExistingRun) {
  TempDir d;
  run_training(tiny_run(d / "run", 1), false);
  EXPECT_THROW(run_training(tiny_run(d / "run", 1), false), UsageError);
}
