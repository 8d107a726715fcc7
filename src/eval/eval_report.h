// eval_report.h — internal to the library: what an evaluation writes besides
// its per-image CSV: report.md (protocol + table), report.json and the
// comparison grid image. evaluate.cpp runs the protocol; this file only
// describes and draws its results.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "ctxenc/evaluate.h"

namespace ctxenc {

// Everything the report says about how the numbers were made.
struct EvalReportInputs {
  const EvalConfig* cfg = nullptr;   // the evaluation's config
  std::vector<std::string> methods;  // row order: "model", "predictions", baselines...
  nlohmann::json model;              // model description (file, step, config, ...); null when none
  std::string layout;                // dataset layout ("split", "paris", "folder", "list")
  int64_t images = 0;                // images evaluated
  int64_t listed = 0;                // images in the split before --limit
  int size = 0;                      // protocol side S
  bool mask_generated = true;        // generated masks (else a folder of mask files)
  std::string mask_name;             // generated: the mask kind; else the folder
  std::string mask_desc;             // one phrase describing the holes
  int grid_rows = 0;                 // rows drawn into grid.png (0 = none)
};

// "%.*f" and "%.9g" formatting for the human and machine files.
std::string format_fixed(double v, int decimals);
std::string format_full(double v);

std::string eval_report_markdown(const EvalReportInputs& in, const std::vector<MethodScore>& rows);
nlohmann::json eval_report_json(const EvalReportInputs& in, const std::vector<MethodScore>& rows);

// One grid row: tiles (each S x S, RGB) side by side with a 2 px gap.
cv::Mat eval_grid_row(const std::vector<cv::Mat>& tiles);
// The rows stacked under a header strip of column labels.
cv::Mat eval_grid_image(const std::vector<cv::Mat>& rows, const std::vector<std::string>& labels, int S);

}  // namespace ctxenc
