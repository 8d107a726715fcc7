// test_shipped_models.cpp — regression test of the models in models/: each is
// rebuilt from its file, then scored on committed validation photos (never
// trained on) against OpenCV Telea on the same images and masks, in one run.
#include <gtest/gtest.h>

#include <filesystem>

#include "ctxenc/evaluate.h"
#include "ctxenc/model_info.h"
#include "test_util.h"

using namespace ctxenc;
using ctxenc::test::source_path;
using ctxenc::test::TempDir;

namespace {

// Required PSNR leads over Telea on the 8 committed photos, with the eval
// protocol's defaults (raw prediction, composited, center fit 0.98). Measured
// when the models were shipped (docs/training.md): center +1.20 dB (the
// previous center model, step 3500 of models/recipes/center.json, has +1.07 with
// the same inference and fails this margin; the first one had +0.82); region
// +0.49 dB (random-region) and +0.88 dB (free-form). The margins leave room for
// floating-point differences between machines, not for a worse model.
constexpr double kCenterMarginDb = 1.1;
constexpr double kRegionMarginDb = 0.3;

const MethodScore& row(const EvalResult& r, const std::string& name) {
  for (const auto& m : r.methods)
    if (m.method == name) return m;
  throw std::runtime_error("no row " + name);
}

EvalResult score(const std::string& model, const std::string& mask, const TempDir& d) {
  EvalConfig cfg;
  cfg.data = source_path("tests/data/val");  // 8 photos, 128x128, from the validation split
  cfg.split = EvalSplit::All;
  cfg.model = model;
  cfg.mask = mask;
  cfg.seed = 0;
  cfg.baselines = {"telea"};
  cfg.grid = 0;
  cfg.out_dir = d / mask;
  return run_evaluation(cfg);
}

}  // namespace

TEST(ShippedModels, CenterModelBeatsTeleaOnValidationPhotos) {
  const std::string path = source_path("models/center.ctxm");
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  EXPECT_LE(std::filesystem::file_size(path), 25u << 20);  // the generator file stays <= 25 MB
  const auto info = describe_model_file(path);
  EXPECT_EQ(info["model"]["image_size"], 128);
  EXPECT_EQ(info["model"]["output"], "center");
  TempDir d;
  const EvalResult r = score(path, "center", d);
  const MethodScore& m = row(r, "model");
  const MethodScore& t = row(r, "telea");
  EXPECT_EQ(m.images, 8);
  EXPECT_GT(m.psnr_db, t.psnr_db + kCenterMarginDb) << "model " << m.psnr_db << " dB, telea " << t.psnr_db;
  EXPECT_LT(m.l1, t.l1);
}

TEST(ShippedModels, RegionModelBeatsTeleaOnRandomRegionsAndStrokes) {
  const std::string path = source_path("models/region.ctxm");
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  const auto info = describe_model_file(path);
  EXPECT_EQ(info["model"]["output"], "full");
  TempDir d;
  for (const char* mask : {"random-region", "free-form"}) {
    const EvalResult r = score(path, mask, d);
    const MethodScore& m = row(r, "model");
    const MethodScore& t = row(r, "telea");
    EXPECT_GT(m.psnr_db, t.psnr_db + kRegionMarginDb) << mask << ": model " << m.psnr_db << " dB, telea " << t.psnr_db;
    EXPECT_LT(m.l1, t.l1) << mask;
  }
}
