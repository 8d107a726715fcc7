// test_evaluate.cpp — `eval` end to end (library and CLI) on tests/data/photos with a tiny
// model: report files, rows, predictions, mask folders, random masks, bad inputs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "ctxenc/errors.h"
#include "ctxenc/evaluate.h"
#include "ctxenc/image_io.h"
#include "ctxenc/metrics.h"
#include "model/model_file.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

namespace {
std::vector<std::string> methods_of(const EvalResult& r) {
  std::vector<std::string> m;
  for (const auto& s : r.methods) m.push_back(s.method);
  return m;
}
}  // namespace

TEST(Eval, EndToEndWithAModelAndTheBaselines) {
  TempDir d;
  EvalConfig c;
  c.data = photos_dir();
  c.model = write_tiny_model(d);
  c.out_dir = d / "report";
  c.grid = 3;
  c.inpaint.threads = 1;
  int64_t calls = 0, last_done = 0;
  std::vector<std::string> notes;
  EvalCallbacks cb;
  cb.on_image = [&](const EvalProgress& p) {
    ++calls;
    EXPECT_EQ(p.total, 8);
    last_done = p.done;
  };
  cb.on_message = [&](const std::string& s) { notes.push_back(s); };
  const EvalResult r = run_evaluation(c, cb);
  EXPECT_EQ(calls, 8);
  EXPECT_EQ(last_done, 8);
  EXPECT_EQ(r.images, 8);
  EXPECT_EQ(r.size, 32);  // the model's image size
  EXPECT_EQ(r.layout, "folder");
  EXPECT_EQ(notes.size(), 1u);  // no split in a plain folder
  ASSERT_EQ(methods_of(r), (std::vector<std::string>{"model", "telea", "ns", "mean"}));
  for (const auto& s : r.methods) {
    EXPECT_EQ(s.images, 8) << s.method;
    EXPECT_EQ(s.hole_values, 8 * 16 * 16 * 3) << s.method;  // central 16x16 of 32x32
    EXPECT_GT(s.l1, 0.0) << s.method;
    EXPECT_LT(s.l1, 1.0) << s.method;
    EXPECT_GT(s.psnr_db, 0.0) << s.method;
    EXPECT_LT(s.psnr_db, kPsnrCapDb) << s.method;
    EXPECT_GT(s.ssim, 0.0) << s.method;
    EXPECT_LT(s.ssim, 1.0) << s.method;
  }
  // Files.
  for (const char* f : {"report.md", "report.json", "per_image.csv", "grid.png"})
    EXPECT_TRUE(fs::exists(d.path / "report" / f)) << f;
  const std::string md = slurp(r.report_md);
  for (const char* row : {"| model |", "| telea |", "| ns |", "| mean |", "| L1 % | L2 % | PSNR dB | SSIM |",
                          "INTER_AREA", "100 dB", "sigma 1.5"})
    EXPECT_NE(md.find(row), std::string::npos) << row << "\n" << md;
  const nlohmann::json j = nlohmann::json::parse(slurp(r.report_json));
  EXPECT_EQ(j["protocol"]["size"], 32);
  EXPECT_EQ(j["protocol"]["images"], 8);
  EXPECT_EQ(j["protocol"]["mask"], "center");
  EXPECT_EQ(j["protocol"]["model"]["center_fit"], 0.98);  // recorded: it changes what a center model sees
  ASSERT_EQ(j["methods"].size(), 4u);
  EXPECT_EQ(j["methods"][1]["method"], "telea");
  EXPECT_NEAR(j["methods"][1]["l1_percent"].get<double>(), 100 * r.methods[1].l1, 1e-9);
  const std::string csv = slurp(r.per_image_csv);
  EXPECT_EQ(count_lines(csv), 1 + 8 * 4);
  EXPECT_EQ(csv.rfind("image,method,l1,l2,psnr,ssim", 0), 0u);
  // Per-image rows pool back to the table (equal hole sizes: mean of means).
  double l1_sum = 0;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line))
    if (line.find(",mean,") != std::string::npos) l1_sum += std::stod(line.substr(line.find(",mean,") + 6));
  EXPECT_NEAR(l1_sum / 8, r.methods[3].l1, 1e-7);
  // Grid: 3 rows of input | 4 methods | truth, 32 px tiles, 2 px gaps, a label strip.
  const cv::Mat grid = cv::imread(r.grid_png);
  EXPECT_EQ(grid.cols, 6 * 32 + 5 * 2);
  EXPECT_GT(grid.rows, 3 * 32 + 2 * 2);
  EXPECT_LT(grid.rows, 3 * 32 + 2 * 2 + 40);
}

TEST(Eval, PredictionsAreScoredWithTheSameCode) {
  TempDir d;
  EvalConfig c;
  c.data = photos_dir();
  c.baselines = {"telea"};
  c.size = 32;
  c.limit = 4;
  c.grid = 0;
  c.save_images = true;
  c.out_dir = d / "first";
  const EvalResult first = run_evaluation(c);
  EXPECT_EQ(first.images, 4);
  EXPECT_TRUE(first.grid_png.empty());
  EXPECT_FALSE(fs::exists(d.path / "first/grid.png"));
  for (const char* sub : {"masked", "mask", "truth", "telea"})
    EXPECT_TRUE(fs::exists(d.path / "first/images" / sub / "photo0.png")) << sub;
  // Telea's saved outputs, fed back as another tool's predictions, score identically.
  c.predictions = d / "first/images/telea";
  c.save_images = false;
  c.out_dir = d / "second";
  const EvalResult second = run_evaluation(c);
  ASSERT_EQ(methods_of(second), (std::vector<std::string>{"predictions", "telea"}));
  for (const auto& s : second.methods) {
    EXPECT_DOUBLE_EQ(s.l1, first.methods[0].l1) << s.method;
    EXPECT_DOUBLE_EQ(s.l2, first.methods[0].l2) << s.method;
    EXPECT_DOUBLE_EQ(s.psnr_db, first.methods[0].psnr_db) << s.method;
    EXPECT_DOUBLE_EQ(s.ssim, first.methods[0].ssim) << s.method;
  }
  // Predictions alone (no model, no baselines) work too.
  c.baselines.clear();
  c.out_dir = d / "third";
  EXPECT_EQ(methods_of(run_evaluation(c)), std::vector<std::string>{"predictions"});
  // A missing prediction names the image.
  fs::remove(d.path / "first/images/telea/photo2.png");
  try {
    run_evaluation(c);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("photo2.jpg"), std::string::npos) << e.what();
  }
}

TEST(Eval, MaskFoldersAndRandomMasks) {
  TempDir d;
  fs::create_directories(d.path / "masks");
  for (int i = 0; i < 8; ++i) {  // 64x64 masks with a 16x32 hole: 4x8 at 16x16
    cv::Mat m = cv::Mat::zeros(64, 64, CV_8UC1);
    m(cv::Rect(16, 24, 16, 32)).setTo(200);
    cv::imwrite(d / ("masks/photo" + std::to_string(i) + ".png"), m);
  }
  EvalConfig c;
  c.data = photos_dir();
  c.baselines = {"mean", "ns"};
  c.size = 16;
  c.grid = 2;
  c.mask = d / "masks";
  c.out_dir = d / "folder";
  const EvalResult r = run_evaluation(c);
  ASSERT_EQ(methods_of(r), (std::vector<std::string>{"mean", "ns"}));
  EXPECT_EQ(r.methods[0].hole_values, 8 * 4 * 8 * 3);
  // Random masks: reproducible in the seed.
  c.mask = "random-block";
  c.seed = 7;
  c.out_dir = d / "a";
  const EvalResult a = run_evaluation(c);
  c.out_dir = d / "b";
  const EvalResult b = run_evaluation(c);
  EXPECT_DOUBLE_EQ(a.methods[1].l1, b.methods[1].l1);
  EXPECT_EQ(slurp(a.per_image_csv), slurp(b.per_image_csv));
  // A missing mask names the image.
  fs::remove(d.path / "masks/photo5.png");
  c.mask = d / "masks";
  try {
    run_evaluation(c);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("photo5.jpg"), std::string::npos) << e.what();
  }
}

TEST(Eval, BadConfigsThrowTheLibraryErrors) {
  TempDir d;
  EvalConfig c;
  c.data = photos_dir();
  c.out_dir = d / "r";
  c.baselines = {"telea", "patchmatch"};
  EXPECT_THROW(run_evaluation(c), UsageError);
  c.baselines = {"telea", "telea"};
  EXPECT_THROW(run_evaluation(c), UsageError);
  c.baselines = {};
  EXPECT_THROW(run_evaluation(c), UsageError);  // nothing to evaluate
  c.baselines = {"mean"};
  c.mask = "bogus";
  EXPECT_THROW(run_evaluation(c), UsageError);
  c.mask = "center";
  c.hole_ratio = 1.0;
  EXPECT_THROW(run_evaluation(c), UsageError);
  c.hole_ratio = 0.25;
  c.data = d / "no-such-dataset";
  EXPECT_THROW(run_evaluation(c), DataError);
  c.data = photos_dir();
  c.model = d / "missing.ctxm";
  EXPECT_THROW(run_evaluation(c), ModelFileError);
  c.model.clear();
  c.predictions = d / "no-such-folder";
  EXPECT_THROW(run_evaluation(c), InputError);
  EXPECT_FALSE(fs::exists(d.path / "r/report.md"));
  EXPECT_EQ(parse_eval_split("all"), EvalSplit::All);
  EXPECT_THROW(parse_eval_split("test"), UsageError);
}

TEST(EvalCli, HelpRunAndOneLineErrors) {
  TempDir d;
  const CliRun help = run_cli("eval --help");
  EXPECT_EQ(help.code, 0);
  for (const char* flag : {"--data", "--model", "--predictions", "--mask", "--baselines", "--split", "--limit",
                           "--grid", "--size", "--threads", "--precision", "--hole-ratio", "--seed", "--blend", "--out"})
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  const CliRun ok = run_cli("eval --data " + photos_dir() + " --baselines mean --size 16 --limit 2 --out " +
                               (d / "r"));
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("mean"), std::string::npos) << ok.out;
  EXPECT_TRUE(fs::exists(d.path / "r/report.md"));
  const CliRun bad = run_cli("eval --data " + photos_dir() + " --baselines telea,magic --out " + (d / "x"));
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_EQ(count_lines(bad.err), 1) << bad.err;
  EXPECT_NE(bad.err.find("magic"), std::string::npos) << bad.err;
  const CliRun nodata = run_cli("eval --data " + (d / "nothing") + " --out " + (d / "x"));
  EXPECT_EQ(nodata.code, kExitData);
  EXPECT_EQ(count_lines(nodata.err), 1) << nodata.err;
  fs::create_directories(d.path / "preds");
  const CliRun nopred = run_cli("eval --data " + photos_dir() + " --predictions " + (d / "preds") +
                                   " --size 16 --out " + (d / "x"));
  EXPECT_EQ(nopred.code, kExitInput);
  EXPECT_EQ(count_lines(nopred.err), 1) << nopred.err;
  EXPECT_NE(nopred.err.find("photo0.jpg"), std::string::npos) << nopred.err;
}
