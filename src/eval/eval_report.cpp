// eval_report.cpp — report.md, report.json and grid.png of an evaluation: the
// protocol written out in full beside the table, so that a report can be read
// (and reproduced) without the command that made it.
#include "eval/eval_report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <opencv2/imgproc.hpp>

#include "ctxenc/metrics.h"

namespace ctxenc {

std::string format_fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string format_full(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

namespace {

std::string split_description(const EvalReportInputs& in) {
  const bool no_split = in.layout == "folder" || in.layout == "list";
  return std::string(to_string(in.cfg->split)) + " split" +
         (no_split ? " (the " + in.layout + " layout has no split: all images)" : " (" + in.layout + " layout)");
}

std::string method_description(const EvalReportInputs& in, const std::string& m) {
  const EvalConfig& cfg = *in.cfg;
  if (m == "model") {
    const auto& mc = in.model["config"];
    return "model: `" + cfg.model + "` (step " + in.model["step"].dump() + ", " + mc["image_size"].dump() +
           " px, " + mc["output"].get<std::string>() + " output) through ctxenc::Inpainter, strategy " +
           to_string(cfg.inpaint.strategy) + ", blend " + to_string(cfg.inpaint.blend) +
           (cfg.inpaint.flip_average ? ", flip-averaged" : "") +
           (mc["output"] == "center" ? ", center fit " + nlohmann::json(cfg.inpaint.center_fit).dump() : std::string()) +
           ", " + to_string(cfg.inpaint.precision) + ".";
  }
  if (m == "predictions")
    return "predictions: already-inpainted images from `" + cfg.predictions +
           "` (matched by name; other sizes resized with INTER_AREA).";
  if (m == "telea") return "telea: cv::inpaint, INPAINT_TELEA, radius " + format_fixed(cfg.inpaint_radius, 1) + ".";
  if (m == "ns")
    return "ns: cv::inpaint, INPAINT_NS (Navier-Stokes), radius " + format_fixed(cfg.inpaint_radius, 1) + ".";
  return "mean: the hole filled with the mean colour of the image's known pixels.";
}

}  // namespace

std::string eval_report_markdown(const EvalReportInputs& in, const std::vector<MethodScore>& rows) {
  const EvalConfig& cfg = *in.cfg;
  const int S = in.size;
  std::ostringstream md;
  md << "# ctxenc eval\n\n"
     << "## Protocol\n\n"
     << "- Data: `" << cfg.data << "`, " << split_description(in) << ", " << in.images << " image(s)"
     << (in.images < in.listed
             ? " (the first " + std::to_string(in.images) + " of " + std::to_string(in.listed) + ": limit)"
             : std::string())
     << ".\n"
     << "- Each image is resized with cv::INTER_AREA to " << S << "x" << S
     << " (aspect not kept: the whole image is squeezed).\n"
     << "- Hole: " << in.mask_desc << ". The same masks for every method.\n"
     << "- Methods, all given the same masked input (hole painted white):\n";
  for (const auto& m : in.methods) md << "  - " << method_description(in, m) << "\n";
  md << "- Every output is composited: known pixels are the input's.\n"
     << "- Metrics on pixel values in [0, 1]. L1 % and L2 %: mean absolute and mean squared error over all hole "
        "pixels and channels of the whole set (pooled), x 100. PSNR: the mean over images of "
        "10 log10(1 / MSE of the image's hole); identical holes (MSE 0) count as "
     << format_fixed(kPsnrCapDb, 0) << " dB, the cap of every PSNR.\n"
     << "- SSIM: Wang et al. 2004 over the whole composited image, Gaussian window 11 px, sigma 1.5, K1 0.01, "
        "K2 0.03, L 1; the SSIM map averaged over every window inside the image (5 px border left out, as "
        "ssim.m 'valid') and over R, G, B; then the mean over images.\n\n"
     << "## Results\n\n"
     << "| Method | L1 % | L2 % | PSNR dB | SSIM | Images |\n"
     << "|---|---:|---:|---:|---:|---:|\n";
  for (const auto& s : rows)
    md << "| " << s.method << " | " << format_fixed(100 * s.l1, 2) << " | " << format_fixed(100 * s.l2, 2) << " | "
       << format_fixed(s.psnr_db, 2) << " | " << format_fixed(s.ssim, 4) << " | " << s.images << " |\n";
  md << "\nPer image: `per_image.csv` (l1 and l2 as fractions in [0, 1]). ";
  if (in.grid_rows > 0) {
    md << "Examples: `grid.png` (masked input | ";
    for (const auto& m : in.methods) md << m << " | ";
    md << "ground truth, the first " << in.grid_rows << " image(s)).";
  }
  md << "\n";
  return md.str();
}

nlohmann::json eval_report_json(const EvalReportInputs& in, const std::vector<MethodScore>& rows) {
  const EvalConfig& cfg = *in.cfg;
  nlohmann::json j;
  j["protocol"] = {{"data", cfg.data},
                   {"layout", in.layout},
                   {"split", to_string(cfg.split)},
                   {"images", in.images},
                   {"images_listed", in.listed},
                   {"limit", cfg.limit},
                   {"size", in.size},
                   {"resize", "cv::INTER_AREA to size x size, aspect not kept"},
                   {"mask", in.mask_name},
                   {"mask_source", in.mask_generated ? "generated" : "folder"},
                   {"hole_ratio", cfg.hole_ratio},
                   {"seed", cfg.seed},
                   {"inpaint_radius", cfg.inpaint_radius},
                   {"masked_input_fill", "white (255)"},
                   {"composited", true},
                   {"value_range", "[0, 1]"},
                   {"l1_l2", "pooled over all hole pixels x channels of the set"},
                   {"psnr", "mean over images of 10 log10(1 / hole MSE)"},
                   {"psnr_cap_db", kPsnrCapDb},
                   {"ssim",
                    {{"window", 11}, {"sigma", 1.5}, {"k1", 0.01}, {"k2", 0.03}, {"L", 1.0},
                     {"region", "whole composited image, valid windows (5 px border left out)"},
                     {"channels", "mean over R, G, B"}}}};
  j["protocol"]["model"] = in.model;
  j["protocol"]["predictions"] = cfg.predictions.empty() ? nlohmann::json(nullptr) : nlohmann::json(cfg.predictions);
  j["methods"] = nlohmann::json::array();
  for (const auto& s : rows)
    j["methods"].push_back({{"method", s.method},
                            {"l1_percent", 100 * s.l1},
                            {"l2_percent", 100 * s.l2},
                            {"psnr_db", s.psnr_db},
                            {"ssim", s.ssim},
                            {"images", s.images},
                            {"hole_values", s.hole_values}});
  j["files"] = {{"report_md", "report.md"},
                {"per_image_csv", "per_image.csv"},
                {"grid_png", in.grid_rows > 0 ? nlohmann::json("grid.png") : nlohmann::json(nullptr)}};
  return j;
}

// ---- grid.png ------------------------------------------------------------------
namespace {
constexpr int kGridGap = 2;
const cv::Scalar kGridBackground(40, 40, 40);
}  // namespace

cv::Mat eval_grid_row(const std::vector<cv::Mat>& tiles) {
  const int S = tiles.front().cols;
  const int n = static_cast<int>(tiles.size());
  cv::Mat row(S, n * S + (n - 1) * kGridGap, CV_8UC3, kGridBackground);
  for (int i = 0; i < n; ++i) tiles[i].copyTo(row(cv::Rect(i * (S + kGridGap), 0, S, S)));
  return row;
}

cv::Mat eval_grid_image(const std::vector<cv::Mat>& rows, const std::vector<std::string>& labels, int S) {
  const int width = rows.front().cols;
  // Header strip with column labels, the font shrunk until the longest fits a tile.
  double scale = 0.45;
  int base = 0;
  auto widest = [&] {
    int w = 0;
    for (const auto& l : labels) w = std::max(w, cv::getTextSize(l, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &base).width);
    return w;
  };
  while (scale > 0.25 && widest() > S - 4) scale -= 0.05;
  const int text_h = cv::getTextSize("Ag", cv::FONT_HERSHEY_SIMPLEX, scale, 1, &base).height;
  const int header = text_h + base + 8;
  int height = header;
  for (const auto& r : rows) height += r.rows + kGridGap;
  cv::Mat grid(height, width, CV_8UC3, kGridBackground);
  for (size_t i = 0; i < labels.size(); ++i) {
    const int w = cv::getTextSize(labels[i], cv::FONT_HERSHEY_SIMPLEX, scale, 1, &base).width;
    const int x = static_cast<int>(i) * (S + kGridGap) + std::max(0, (S - w) / 2);
    cv::putText(grid, labels[i], cv::Point(x, 4 + text_h), cv::FONT_HERSHEY_SIMPLEX, scale,
                cv::Scalar(235, 235, 235), 1, cv::LINE_AA);
  }
  int y = header;
  for (const auto& r : rows) {
    r.copyTo(grid(cv::Rect(0, y, r.cols, r.rows)));
    y += r.rows + kGridGap;
  }
  return grid(cv::Rect(0, 0, width, height - kGridGap)).clone();
}

}  // namespace ctxenc
