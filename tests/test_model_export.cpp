// test_model_export.cpp — model files made from others: exports, weight averages, BatchNorm
// statistics re-measured on training crops.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "ctxenc/errors.h"
#include "ctxenc/model_info.h"
#include "io/dataset.h"
#include "model/hole_mapping.h"
#include "model/model_file.h"
#include "train/batchnorm_recalibration.h"
#include "train/loader.h"
#include "train/trainer.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

TEST(ModelExport, ExportOfSeveralFilesAveragesTheirWeightsAndStatistics) {
  TempDir dir;
  TrainConfig t = tiny_train(Bottleneck::Channelwise);
  Trainer trainer(t);
  auto [img, hole] = seeded_batch(1);
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

TEST(ModelExport, BatchNormRecalibrationGivesTheStatisticsOfTrainingCrops) {
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
  TrainLoader loader(photos(), t.data, t.mask, HoleMapping(t.model), r.batch_size, r.seed, 0);
  Batch b = loader.next();
  auto x = HoleMapping(t.model).input(b.images, b.holes);
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

TEST(ModelExport, ExportWithRecalibrationRecordsItAndChangesOnlyStatistics) {
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
