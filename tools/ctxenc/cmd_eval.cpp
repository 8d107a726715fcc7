// cmd_eval.cpp — `ctxenc eval`: flags -> EvalConfig -> run_evaluation, with a
// progress bar; prints the results table and where the report went.
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_output.h"
#include "commands.h"
#include "ctxenc/config.h"
#include "ctxenc/errors.h"
#include "ctxenc/evaluate.h"
#include "ctxenc/inpaint.h"
#include "options.h"
#include "progress.h"

namespace ctxenc::cli {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s.empty() ? "none" : s;
}

struct EvalCliOptions {
  EvalConfig eval;        // everything the evaluation needs
  std::string baselines = join(EvalConfig{}.baselines);  // comma-separated, or "none"
  bool json = false;      // the results as JSON on stdout instead of the table
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
  EvalConfig c = o.eval;
  c.baselines = split_list(o.baselines);
  if (c.inpaint.precision == Precision::BF16 && !bf16_convolutions_fast())
    std::cerr << "ctxenc: " << bf16_slow_warning() << "\n";

  std::unique_ptr<ProgressBar> bar;
  EvalCallbacks cb;
  cb.on_message = [&](const std::string& s) {
    if (!quiet()) std::cerr << (bar && stderr_is_tty() ? "\n" : "") << "ctxenc: note: " << s << "\n";
  };
  cb.on_image = [&](const EvalProgress& p) {
    if (!bar) bar = std::make_unique<ProgressBar>("eval", p.total, 0, "img");
    if (p.done < p.total) bar->update(p.done);  // finish() draws the last state
  };
  const EvalResult r = run_evaluation(c, cb);
  if (bar) bar->finish();

  if (o.json) {
    nlohmann::json methods = nlohmann::json::array();
    for (const auto& m : r.methods)
      methods.push_back({{"method", m.method}, {"l1", m.l1}, {"l2", m.l2}, {"psnr_db", m.psnr_db}, {"ssim", m.ssim},
                         {"images", m.images}});
    nlohmann::json files = {{"report_md", r.report_md}, {"report_json", r.report_json},
                            {"per_image_csv", r.per_image_csv}};
    if (!r.grid_png.empty()) files["grid_png"] = r.grid_png;
    std::cout << nlohmann::json{{"images", r.images}, {"size", r.size}, {"layout", r.layout}, {"methods", methods},
                                {"files", files}}
                     .dump(2)
              << "\n";
    return;
  }

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
  EvalConfig& c = o.eval;
  sub->add_option("--data", c.data, "Dataset: folder, train/val folders, Paris StreetView, or a .txt list")
      ->required();
  sub->add_option("--model", c.model, "Model file (.ctxm) or checkpoint (.ctx); optional");
  sub->add_option("--predictions", c.predictions,
                  "Folder of already-inpainted S x S images from another tool, matched by relative name\n"
                  "or stem (e.g. the outputs for REPORT_DIR/images/masked of a --save-images run)");
  sub->add_option("--out", c.out_dir, "Report folder (created)")->required();
  add_field(sub, "--mask", c.mask, "center | random-block | random-region | free-form | MASK_DIR (matched by name)");
  add_field(sub, "--hole-ratio", c.hole_ratio, "Generated masks: fraction of the image that is hole");
  add_field(sub, "--seed", c.seed, "Random masks: image i uses mix_seed(seed, i)");
  add_field(sub, "--baselines", o.baselines, "Comma-separated: telea, ns, mean; or none");
  add_enum(sub, "--split", c.split, parse_eval_split, "val | train | all (layouts without a split: all images)");
  add_field(sub, "--limit", c.limit, "Only the first N images (0 = all)");
  add_field(sub, "--grid", c.grid, "Images (rows) in grid.png (0 = no grid)");
  add_field(sub, "--size", c.size, "Protocol size S (0 = the model's image size, else 128)");
  add_field(sub, "--max-pixels", c.max_pixels, "Refuse larger dataset images (checked before decoding)");
  InpaintOptions& io = c.inpaint;
  add_enum(sub, "--strategy", io.strategy, parse_strategy, "Model: crop | resize | full (as in ctxenc inpaint)");
  add_enum(sub, "--blend", io.blend, parse_blend, "Model: none | feather | poisson");
  add_field(sub, "--threads", io.threads, "Model: compute threads (0 = all cores)");
  add_enum(sub, "--precision", io.precision, parse_precision, "Model: fp32 | bf16");
  sub->add_flag("--flip-average", io.flip_average, "Model: average with the prediction for the mirrored input");
  add_field(sub, "--center-fit", io.center_fit, "Center model: as in ctxenc inpaint");
  sub->add_flag("--json", o.json, "Print the scores and report paths as JSON on stdout instead of the table");
  sub->add_flag("--save-images", c.save_images,
                "Also write REPORT_DIR/images/{masked,mask,truth,<method>}/<name>.png at S x S");
  sub->callback([opt] { run_eval(*opt); });
}

}  // namespace ctxenc::cli
