// test_checkpoint.cpp — save/load round trips (bit-exact), resume exactness,
// and every kind of bad model file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "ctxenc/batchnorm_recalibration.h"
#include "ctxenc/checkpoint.h"
#include "ctxenc/dataset.h"
#include "ctxenc/errors.h"
#include "ctxenc/holes.h"
#include "ctxenc/model_info.h"
#include "ctxenc/fused_adam.h"
#include "ctxenc/trainer.h"
#include "test_util.h"

using namespace ctxenc;
using ctxenc::test::TempDir;
using ctxenc::test::photos_dir;
using ctxenc::test::tiny_model;

namespace {
TrainConfig tiny_train(Bottleneck b = Bottleneck::Channelwise) {
  TrainConfig t;
  t.model = tiny_model(32, b);
  t.batch_size = 4;
  return t;
}
std::pair<torch::Tensor, torch::Tensor> batch(uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::rand({4, 3, 32, 32}) * 2 - 1, (torch::rand({4, 1, 32, 32}) > 0.7).to(torch::kFloat32)};
}
void expect_same_weights(torch::nn::Module& a, torch::nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  auto ba = a.named_buffers(), bb = b.named_buffers();
  for (const auto& p : ba) EXPECT_TRUE(torch::equal(p.value(), bb[p.key()])) << p.key();
}
}  // namespace

TEST(Checkpoint, ModelFileSaveLoadForwardIsBitExact) {
  for (auto b : {Bottleneck::Channelwise, Bottleneck::Dense})
  for (auto up : {Upsampling::Transposed, Upsampling::Bilinear}) {
    TempDir dir;
    TrainConfig t = tiny_train(b);
    t.model.upsampling = up;
    Trainer trainer(t);
    auto [img, hole] = batch(1);
    trainer.train_step(img, hole);  // non-trivial BN statistics
    save_model_file(dir / "m.ctxm", trainer.generator(), trainer.step(), {});
    LoadedGenerator g = load_generator(dir / "m.ctxm");
    EXPECT_EQ(g.step, 1);
    EXPECT_EQ(g.config.upsampling, up);
    torch::NoGradGuard ng;
    trainer.generator()->eval();
    auto x = generator_input(t.model, img, center_hole(t.model).expand({4, 1, 32, 32}));
    EXPECT_TRUE(torch::equal(trainer.generator()->forward(x), g.generator->forward(x))) << to_string(b) << to_string(up);
  }
}

TEST(Checkpoint, ExportOfSeveralFilesAveragesTheirWeightsAndStatistics) {
  TempDir dir;
  TrainConfig t = tiny_train(Bottleneck::Channelwise);
  Trainer trainer(t);
  auto [img, hole] = batch(1);
  save_model_file(dir / "a.ctxm", trainer.generator(), 0, {});
  trainer.train_step(img, hole);
  trainer.train_step(img, hole);  // other weights and BN statistics
  save_model_file(dir / "b.ctxm", trainer.generator(), trainer.step(), {{"train", t}});
  export_average({dir / "a.ctxm", dir / "b.ctxm"}, dir / "avg.ctxm", /*bf16=*/false);
  LoadedGenerator a = load_generator(dir / "a.ctxm"), b = load_generator(dir / "b.ctxm"),
                  avg = load_generator(dir / "avg.ctxm");
  EXPECT_EQ(avg.step, 2);
  EXPECT_TRUE(avg.header.contains("train"));
  EXPECT_EQ(avg.header.at("averaged_from").size(), 2u);
  auto pa = a.generator->named_parameters(), pb = b.generator->named_parameters();
  for (const auto& p : avg.generator->named_parameters())
    EXPECT_TRUE(torch::allclose(p.value(), (pa[p.key()] + pb[p.key()]) / 2, 1e-6, 1e-7)) << p.key();
  auto ba = a.generator->named_buffers(), bb = b.generator->named_buffers();
  bool some_statistic_moved = false;
  for (const auto& buf : avg.generator->named_buffers()) {
    if (!buf.value().is_floating_point()) continue;
    some_statistic_moved |= !torch::equal(ba[buf.key()], bb[buf.key()]);
    EXPECT_TRUE(torch::allclose(buf.value(), (ba[buf.key()] + bb[buf.key()]) / 2, 1e-6, 1e-7)) << buf.key();
  }
  EXPECT_TRUE(some_statistic_moved);
  // Another architecture, or a single file, is refused.
  TrainConfig wide = t;
  wide.model.ngf *= 2;
  Trainer other(wide);
  save_model_file(dir / "wide.ctxm", other.generator(), 0, {});
  EXPECT_THROW(export_average({dir / "a.ctxm", dir / "wide.ctxm"}, dir / "bad.ctxm", false), ModelFileError);
  EXPECT_THROW(export_average({dir / "a.ctxm"}, dir / "bad.ctxm", false), UsageError);
  EXPECT_FALSE(std::filesystem::exists(dir.path / "bad.ctxm"));
}

TEST(Checkpoint, BatchNormRecalibrationGivesTheStatisticsOfTrainingCrops) {
  TrainConfig t = tiny_train(Bottleneck::Channelwise);  // center model, 32 px
  t.data.path = photos_dir();
  Generator g(t.model);
  torch::NoGradGuard no_grad;
  for (auto& b : g->named_buffers()) {  // statistics that fit no data
    if (b.key().find("running_mean") != std::string::npos) b.value().fill_(3.0);
    if (b.key().find("running_var") != std::string::npos) b.value().fill_(50.0);
  }
  std::map<std::string, torch::Tensor> weights_before;
  for (const auto& p : g->named_parameters()) weights_before[p.key()] = p.value().clone();
  // The one batch the recalibration will see, fed here in training mode (batch statistics).
  BatchNormRecalibration r;
  r.data = photos_dir();
  r.batches = 1;
  r.batch_size = 16;
  r.seed = 5;
  TrainLoader loader(list_dataset(photos_dir()).files, t.data, t.mask, 32, r.batch_size, r.seed, 0, {},
                     t.model.fill, center_hole_mask(t.model));
  Batch b = loader.next();
  auto x = generator_input(t.model, b.images, center_hole(t.model).expand({r.batch_size, 1, -1, -1}));
  auto with_batch_statistics = [&] {
    std::stringstream saved;
    torch::save(g, saved);  // a training-mode forward moves the running statistics; keep them
    g->train();
    auto y = g->forward(x);
    torch::load(g, saved);
    g->eval();
    return y;
  };
  g->eval();
  const double before = (g->forward(x) - with_batch_statistics()).abs().max().item<double>();
  recalibrate_batch_norm(g, t.data, t.mask, r);
  const double after = (g->forward(x) - with_batch_statistics()).abs().max().item<double>();
  EXPECT_GT(before, 0.3);
  // Left over: unbiased against biased variance (16 codes in the 1-d bottleneck norm).
  EXPECT_LT(after, 0.05) << "before " << before;
  for (const auto& p : g->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), weights_before[p.key()])) << p.key();
  for (auto& m : g->modules()) {  // the usual momentum is back for later training
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) {
      EXPECT_EQ(bn->options.momentum(), c10::optional<double>(0.1));
      EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 1);
    }
  }
  EXPECT_FALSE(g->is_training());
  r.batches = 0;
  EXPECT_THROW(recalibrate_batch_norm(g, t.data, t.mask, r), UsageError);
}

TEST(Checkpoint, ExportWithRecalibrationRecordsItAndChangesOnlyStatistics) {
  TempDir dir;
  TrainConfig t = tiny_train(Bottleneck::Channelwise);
  t.data.path = photos_dir();
  Trainer trainer(t);
  save_model_file(dir / "m.ctxm", trainer.generator(), 0, {{"train", t}});
  BatchNormRecalibration r;
  r.data = photos_dir();
  r.batches = 2;
  r.batch_size = 4;
  r.frame = "whole";
  export_model(dir / "m.ctxm", dir / "plain.ctxm", /*bf16=*/false);
  export_model(dir / "m.ctxm", dir / "recal.ctxm", /*bf16=*/false, r);
  LoadedGenerator plain = load_generator(dir / "plain.ctxm"), recal = load_generator(dir / "recal.ctxm");
  EXPECT_FALSE(plain.header.contains("batchnorm_recalibrated"));
  ASSERT_TRUE(recal.header.contains("batchnorm_recalibrated"));
  EXPECT_EQ(recal.header["batchnorm_recalibrated"]["frame"], "whole");
  EXPECT_EQ(recal.header["batchnorm_recalibrated"]["batches"], 2);
  auto pp = plain.generator->named_parameters();
  for (const auto& p : recal.generator->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), pp[p.key()])) << p.key();
  auto bp = plain.generator->named_buffers();
  bool moved = false;
  for (const auto& buf : recal.generator->named_buffers())
    if (buf.key().find("running_") != std::string::npos) moved |= !torch::equal(buf.value(), bp[buf.key()]);
  EXPECT_TRUE(moved);
  r.data = dir / "no-such-folder";
  EXPECT_ANY_THROW(export_model(dir / "m.ctxm", dir / "bad.ctxm", false, r));
  EXPECT_FALSE(std::filesystem::exists(dir.path / "bad.ctxm"));
}

TEST(Checkpoint, Bf16ModelFileIsHalfSizeAndClose) {
  TempDir dir;
  TrainConfig t = tiny_train();
  t.model.image_size = 64;
  Trainer trainer(t);
  save_model_file(dir / "f32.ctxm", trainer.generator(), 0, {}, torch::kFloat32);
  save_model_file(dir / "bf16.ctxm", trainer.generator(), 0, {}, torch::kBFloat16);
  const auto s32 = std::filesystem::file_size(dir / "f32.ctxm"), s16 = std::filesystem::file_size(dir / "bf16.ctxm");
  EXPECT_LT(s16, s32 * 0.6);
  LoadedGenerator g = load_generator(dir / "bf16.ctxm");
  for (const auto& p : trainer.generator()->named_parameters())
    EXPECT_TRUE(torch::allclose(p.value(), g.generator->named_parameters()[p.key()], 1e-2, 1e-3)) << p.key();
}

TEST(Checkpoint, ResumeContinuesExactlyWhereItStopped) {
  TempDir dir;
  TrainConfig t = tiny_train();
  Trainer straight(t);
  for (uint64_t s = 0; s < 5; ++s) {
    auto [img, hole] = batch(100 + s);
    straight.train_step(img, hole);
  }
  Trainer first(t);
  for (uint64_t s = 0; s < 3; ++s) {
    auto [img, hole] = batch(100 + s);
    first.train_step(img, hole);
  }
  first.save_checkpoint(dir / "c.ctx");
  TrainConfig other = t;
  other.seed = 999;  // different init: everything must come from the file
  Trainer resumed(other);
  resumed.load_checkpoint(dir / "c.ctx");
  EXPECT_EQ(resumed.step(), 3);
  for (uint64_t s = 3; s < 5; ++s) {
    auto [img, hole] = batch(100 + s);
    resumed.train_step(img, hole);
  }
  expect_same_weights(*straight.generator(), *resumed.generator());
  expect_same_weights(*straight.discriminator(), *resumed.discriminator());
}

// A resume takes the learning rate of its own config (`--resume --lr X`), not
// the one stored with the optimizer state: with lr 0 no weight moves.
TEST(Checkpoint, ResumeTakesTheLearningRateOfItsConfig) {
  TempDir dir;
  TrainConfig t = tiny_train();
  Trainer first(t);
  auto [img, hole] = batch(200);
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

TEST(Checkpoint, WeightAverageFollowsAndResumes) {
  TempDir dir;
  TrainConfig t = tiny_train();
  t.ema_decay = 0.5;
  Trainer a(t);
  for (uint64_t s = 0; s < 3; ++s) {
    auto [img, hole] = batch(300 + s);
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

TEST(Checkpoint, MissingFileIsAClearError) {
  try {
    load_generator("/nonexistent/model.ctxm");
    FAIL();
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.ctxm"), std::string::npos);
  }
}

TEST(Checkpoint, ForeignFileIsRejected) {
  TempDir dir;
  std::ofstream(dir / "foreign.ctxm") << "\x89PNG\r\n\x1a\nnot a model at all";
  EXPECT_THROW(load_generator(dir / "foreign.ctxm"), ModelFileError);
  // A plain torch archive is foreign too.
  torch::nn::Linear lin(2, 2);
  torch::save(lin, dir / "torch.pt");
  try {
    load_generator(dir / "torch.pt");
    FAIL();
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("not a ctxenc model"), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, TruncatedFileIsRejectedAtEveryLength) {
  TempDir dir;
  TrainConfig t = tiny_train();
  Trainer trainer(t);
  trainer.save_checkpoint(dir / "c.ctx");
  std::ifstream in(dir / "c.ctx", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  for (size_t len : {size_t{0}, size_t{5}, size_t{20}, bytes.size() / 3, bytes.size() - 1}) {
    std::ofstream(dir / "t.ctx", std::ios::binary) << bytes.substr(0, len);
    EXPECT_THROW(load_generator(dir / "t.ctx"), ModelFileError) << len;
  }
  // A flipped byte in the payload fails the checksum.
  std::string corrupt = bytes;
  corrupt[corrupt.size() - 100] ^= 0x40;
  std::ofstream(dir / "x.ctx", std::ios::binary) << corrupt;
  EXPECT_THROW(load_generator(dir / "x.ctx"), ModelFileError);
}

TEST(Checkpoint, ShapesThatDisagreeWithTheStoredConfigAreRejected) {
  TempDir dir;
  ModelConfig small = tiny_model(32, Bottleneck::Dense);
  ModelConfig big = small;
  big.nbottleneck = 48;
  Generator g_small(small);
  // Header claims nbottleneck 48, tensors are from nbottleneck 32.
  ContainerFile f;
  f.header = {{"kind", "model"}, {"model", big}, {"step", 0}};
  f.sections["generator"] = module_to_bytes(*g_small);
  write_container(dir / "lie.ctxm", f);
  try {
    load_generator(dir / "lie.ctxm");
    FAIL();
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("shape"), std::string::npos) << e.what();
  }
  // Header claims a bilinear decoder, tensors are transposed convolutions.
  ContainerFile fb = f;
  ModelConfig bilinear = small;
  bilinear.upsampling = Upsampling::Bilinear;
  fb.header["model"] = bilinear;
  write_container(dir / "up.ctxm", fb);
  EXPECT_THROW(load_generator(dir / "up.ctxm"), ModelFileError);
  // A tensor missing entirely.
  ContainerFile f2 = f;
  f2.header["model"] = tiny_model(32, Bottleneck::Channelwise);
  write_container(dir / "other.ctxm", f2);
  EXPECT_THROW(load_generator(dir / "other.ctxm"), ModelFileError);
}

TEST(Checkpoint, ResumeRefusesADifferentModelConfig) {
  TempDir dir;
  Trainer a(tiny_train(Bottleneck::Channelwise));
  a.save_checkpoint(dir / "c.ctx");
  Trainer b(tiny_train(Bottleneck::Dense));
  EXPECT_THROW(b.load_checkpoint(dir / "c.ctx"), ModelFileError);
}

TEST(FusedAdam, MatchesTorchAdamAndSharesItsState) {
  torch::manual_seed(5);
  auto p0 = torch::randn({3, 4, 5, 6}).contiguous(torch::MemoryFormat::ChannelsLast);
  auto a = p0.clone().requires_grad_(true), b = p0.clone().requires_grad_(true);
  auto opts = torch::optim::AdamOptions(1e-2).betas({0.5, 0.999});
  torch::optim::Adam ref({a}, opts);
  FusedAdam fused({b}, opts);
  for (int i = 0; i < 20; ++i) {
    auto g = torch::randn_like(p0);
    a.mutable_grad() = g.clone();
    b.mutable_grad() = g.clone();
    ref.step();
    fused.step();
  }
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-6)) << (a - b).abs().max().item<float>();
  // State written by one loads into the other.
  auto bytes = optimizer_to_bytes(fused);
  torch::optim::Adam again({a}, opts);
  optimizer_from_bytes(again, bytes, "test");
}
