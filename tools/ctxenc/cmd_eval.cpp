// cmd_eval.cpp — `ctxenc eval`: flags -> EvalConfig -> run_evaluation, with a
// progress bar; prints the results table and where the report went.
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.h"
#include "ctxenc/config.h"
#include "ctxenc/errors.h"
#include "ctxenc/evaluate.h"
#include "ctxenc/inpaint.h"
#include "progress.h"

namespace ctxenc::cli {
namespace {

struct EvalCliOptions {
  std::string data, model, predictions, out;
  std::string mask = "center", baselines = "telea,ns,mean", split = "val";
  std::string strategy = "crop", blend = "none", precision = "fp32";
  double hole_ratio = 0.25;
  uint64_t seed = 0;
  int64_t limit = 0;
  int grid = 8, size = 0, threads = 0;
  bool save_images = false;
  bool flip_average = false;
  double center_fit = InpaintOptions{}.center_fit;  // chosen on the training photos
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  if (s == "none" || s.empty()) return out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) throw UsageError("--baselines '" + s + "' has an empty name");
    out.push_back(item);
  }
  return out;
}

void run_eval(const EvalCliOptions& o) {
  EvalConfig c;
  c.data = o.data;
  c.model = o.model;
  c.predictions = o.predictions;
  c.out_dir = o.out;
  c.mask = o.mask;
  c.baselines = split_list(o.baselines);
  c.split = parse_eval_split(o.split);
  c.strategy = parse_strategy(o.strategy);
  c.blend = parse_blend(o.blend);
  c.flip_average = o.flip_average;
  c.center_fit = o.center_fit;
  c.precision = parse_precision(o.precision);
  if (c.precision == Precision::BF16 && !bf16_convolutions_fast()) std::cerr << "ctxenc: " << bf16_slow_warning() << "\n";
  c.hole_ratio = o.hole_ratio;
  c.seed = o.seed;
  c.limit = o.limit;
  c.grid = o.grid;
  c.size = o.size;
  c.threads = o.threads;
  c.save_images = o.save_images;
  if (c.threads < 0) throw UsageError("--threads must be >= 0 (0 = all cores)");

  std::unique_ptr<ProgressBar> bar;
  EvalCallbacks cb;
  cb.on_message = [&](const std::string& s) { std::cerr << (bar ? "\n" : "") << "ctxenc: note: " << s << "\n"; };
  cb.on_image = [&](const EvalProgress& p) {
    if (!bar) bar = std::make_unique<ProgressBar>("eval", p.total, 0, "img");
    if (p.done < p.total) bar->update(p.done);  // finish() draws the last state
  };
  const EvalResult r = run_evaluation(c, cb);
  if (bar) bar->finish();

  std::printf("%-12s %8s %8s %9s %8s %7s\n", "method", "L1 %", "L2 %", "PSNR dB", "SSIM", "images");
  for (const auto& m : r.methods)
    std::printf("%-12s %8.2f %8.2f %9.2f %8.4f %7lld\n", m.method.c_str(), 100 * m.l1, 100 * m.l2, m.psnr_db, m.ssim,
                static_cast<long long>(m.images));
  std::printf("report:    %s\n", r.report_md.c_str());
  std::printf("json:      %s\n", r.report_json.c_str());
  std::printf("per image: %s\n", r.per_image_csv.c_str());
  if (!r.grid_png.empty()) std::printf("grid:      %s\n", r.grid_png.c_str());
}

}  // namespace

void setup_eval(CLI::App& app) {
  auto opt = std::make_shared<EvalCliOptions>();
  auto& o = *opt;
  CLI::App* sub = app.add_subcommand(
      "eval",
      "Score a model, other tools' outputs and classical baselines with the paper's metrics\n"
      "(hole L1 / L2, PSNR) plus SSIM, on the same images and the same masks.\n"
      "  ctxenc eval --data DIR --model M --out REPORT_DIR\n"
      "  ctxenc eval --data DIR --baselines telea,ns,mean --out REPORT_DIR\n"
      "  ctxenc eval --data DIR --predictions PRED_DIR --out REPORT_DIR\n"
      "Each image is squeezed (INTER_AREA, aspect not kept) to S x S; every output is composited\n"
      "(known pixels are the input's). Writes report.md, report.json, per_image.csv and grid.png.");
  sub->add_option("--data", o.data, "Dataset: folder, train/val folders, Paris StreetView, or a .txt list")
      ->required();
  sub->add_option("--model", o.model, "Model file (.ctxm) or checkpoint (.ctx); optional");
  sub->add_option("--predictions", o.predictions,
                  "Folder of already-inpainted S x S images from another tool, matched by relative name\n"
                  "or stem (e.g. the outputs for REPORT_DIR/images/masked of a --save-images run)");
  sub->add_option("--out", o.out, "Report folder (created)")->required();
  sub->add_option("--mask", o.mask, "center | random-block | random-region | free-form | MASK_DIR (matched by name)")
      ->capture_default_str();
  sub->add_option("--hole-ratio", o.hole_ratio, "Generated masks: fraction of the image that is hole")
      ->capture_default_str();
  sub->add_option("--seed", o.seed, "Random masks: image i uses mix_seed(seed, i)")->capture_default_str();
  sub->add_option("--baselines", o.baselines, "Comma-separated: telea, ns, mean; or none")->capture_default_str();
  sub->add_option("--split", o.split, "val | train | all (layouts without a split: all images)")
      ->capture_default_str();
  sub->add_option("--limit", o.limit, "Only the first N images (0 = all)")->capture_default_str();
  sub->add_option("--grid", o.grid, "Images (rows) in grid.png (0 = no grid)")->capture_default_str();
  sub->add_option("--size", o.size, "Protocol size S (0 = the model's image size, else 128)")->capture_default_str();
  sub->add_option("--strategy", o.strategy, "Model: crop | resize | full (as in ctxenc inpaint)")
      ->capture_default_str();
  sub->add_option("--blend", o.blend, "Model: none | feather | poisson")->capture_default_str();
  sub->add_option("--threads", o.threads, "Model: compute threads (0 = all cores)")->capture_default_str();
  sub->add_option("--precision", o.precision, "Model: fp32 | bf16")->capture_default_str();
  sub->add_flag("--flip-average", o.flip_average, "Model: average with the prediction for the mirrored input");
  sub->add_option("--center-fit", o.center_fit, "Center model: as in ctxenc inpaint")->capture_default_str();
  sub->add_flag("--save-images", o.save_images,
                "Also write REPORT_DIR/images/{masked,mask,truth,<method>}/<name>.png at S x S");
  sub->callback([opt] { run_eval(*opt); });
}

}  // namespace ctxenc::cli
