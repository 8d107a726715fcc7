// evaluate.cpp — the evaluation protocol: dataset -> S x S images and holes ->
// model / predictions / baselines -> composited outputs -> metrics -> report
// files (report.md, report.json, per_image.csv, grid.png).
#include "ctxenc/evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

#include "ctxenc/checkpoint.h"
#include "ctxenc/dataset.h"
#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "ctxenc/masks.h"
#include "ctxenc/metrics.h"
#include "eval_report.h"

namespace ctxenc {
namespace fs = std::filesystem;
namespace {

fs::path normal_abs(const std::string& p) {
  std::error_code ec;
  fs::path a = fs::absolute(p, ec);
  return (ec ? fs::path(p) : a).lexically_normal();
}

// Deepest folder holding every file.
fs::path common_dir(const std::vector<std::string>& files) {
  fs::path root = normal_abs(files.front()).parent_path();
  for (const auto& f : files) {
    const fs::path p = normal_abs(f);
    while (!root.empty()) {
      const fs::path rel = p.lexically_relative(root);
      if (!rel.empty() && *rel.begin() != "..") break;
      if (root == root.root_path()) break;
      root = root.parent_path();
    }
  }
  return root;
}

// A folder of images indexed by relative name without extension, and by stem.
struct NameIndex {
  std::string dir;
  std::map<std::string, std::string> by_rel;               // "a/b" -> file
  std::map<std::string, std::vector<std::string>> by_stem;  // "b" -> files

  explicit NameIndex(const std::string& folder) : dir(folder) {
    std::error_code ec;
    const fs::path root = normal_abs(folder);
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::follow_directory_symlink, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec) || !has_image_extension(it->path().string())) continue;
      fs::path rel = it->path().lexically_relative(root);
      rel.replace_extension();
      by_rel.emplace(rel.generic_string(), it->path().string());
      by_stem[it->path().stem().string()].push_back(it->path().string());
    }
  }
  // "" when there is no match (or only an ambiguous stem match).
  std::string find(const std::string& rel_noext, const std::string& stem) const {
    if (auto it = by_rel.find(rel_noext); it != by_rel.end()) return it->second;
    if (auto it = by_stem.find(stem); it != by_stem.end() && it->second.size() == 1) return it->second.front();
    return "";
  }
};

// One dataset image and what belongs to it.
struct Item {
  std::string path;       // as listed by the dataset
  std::string rel;        // relative to the dataset's common folder, no extension, '/'-separated
  std::string mask_file;  // mask folder mode: its mask
  std::string pred_file;  // predictions mode: its prediction
};

// The whole image squeezed to S x S (aspect not kept).
cv::Mat squeeze(const cv::Mat& img, int S) {
  if (img.cols == S && img.rows == S) return img.clone();
  cv::Mat out;
  cv::resize(img, out, cv::Size(S, S), 0, 0, cv::INTER_AREA);
  return out;
}

// Known pixels of `input`, hole pixels of `filled`.
cv::Mat composite(const cv::Mat& input, const cv::Mat& filled, const cv::Mat& hole) {
  cv::Mat out = input.clone();
  filled.copyTo(out, hole);
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

void make_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) throw OutputError("cannot create '" + dir.string() + "': " + ec.message());
}

// The dataset files for a split, with a note when the layout has no split.
DatasetFiles list_split(const std::string& path, EvalSplit split, std::vector<std::string>& notes) {
  if (split != EvalSplit::All) {
    DatasetFiles d = list_dataset(path, split == EvalSplit::Train ? Split::Train : Split::Val);
    if (d.layout == "folder" || d.layout == "list")
      notes.push_back("the dataset (" + d.layout + " layout) has no train/val split: evaluating all its images");
    return d;
  }
  // Both splits; either may be empty, not both.
  DatasetFiles out;
  std::optional<DataError> last;
  for (Split s : {Split::Train, Split::Val}) {
    try {
      DatasetFiles d = list_dataset(path, s);
      out.layout = d.layout;
      out.files.insert(out.files.end(), d.files.begin(), d.files.end());
      if (d.layout == "folder" || d.layout == "list") {  // no split: one listing is everything
        notes.push_back("the dataset (" + d.layout + " layout) has no train/val split: evaluating all its images");
        break;
      }
    } catch (const DataError& e) {
      last = e;
    }
  }
  if (out.files.empty()) throw last ? *last : DataError("dataset '" + path + "' holds no images");
  std::sort(out.files.begin(), out.files.end());
  out.files.erase(std::unique(out.files.begin(), out.files.end()), out.files.end());
  return out;
}

struct MaskSpec {
  bool generated = true;
  MaskConfig cfg;       // generated masks
  std::string folder;   // mask folder
};

MaskSpec parse_mask_spec(const EvalConfig& c) {
  MaskSpec m;
  m.cfg.hole_ratio = c.hole_ratio;
  for (MaskKind k : {MaskKind::Center, MaskKind::RandomBlock, MaskKind::RandomRegion, MaskKind::FreeForm})
    if (c.mask == to_string(k)) {
      m.cfg.kind = k;
      return m;
    }
  std::error_code ec;
  if (!fs::is_directory(c.mask, ec))
    throw UsageError("--mask '" + c.mask +
                     "' is neither center|random-block|random-region|free-form nor an existing folder of masks");
  m.generated = false;
  m.folder = c.mask;
  return m;
}

cv::Mat mean_fill(const cv::Mat& masked, const cv::Mat& hole) {
  const cv::Scalar mean = cv::mean(masked, hole == 0);
  cv::Mat out = masked.clone();
  out.setTo(mean, hole);
  return out;
}

// Accumulated scores of one method.
struct Accum {
  HoleError pooled;
  double psnr_sum = 0, ssim_sum = 0;
  int64_t images = 0;
};

}  // namespace

const char* to_string(EvalSplit s) { return s == EvalSplit::Val ? "val" : s == EvalSplit::Train ? "train" : "all"; }

EvalSplit parse_eval_split(const std::string& s) {
  if (s == "val") return EvalSplit::Val;
  if (s == "train") return EvalSplit::Train;
  if (s == "all") return EvalSplit::All;
  throw UsageError("unknown split '" + s + "' (expected val|train|all)");
}

const std::vector<std::string>& known_baselines() {
  static const std::vector<std::string> names = {"telea", "ns", "mean"};
  return names;
}

EvalResult run_evaluation(const EvalConfig& cfg, const EvalCallbacks& cb) {
  auto note = [&](const std::string& s) {
    if (cb.on_message) cb.on_message(s);
  };

  // ---- checks that need no data, fastest first ------------------------------
  if (cfg.out_dir.empty()) throw UsageError("--out REPORT_DIR is required");
  if (cfg.data.empty()) throw UsageError("--data DIR is required");
  if (!(cfg.hole_ratio > 0.0 && cfg.hole_ratio < 1.0))
    throw UsageError("--hole-ratio must be in (0, 1), got " + std::to_string(cfg.hole_ratio));
  if (cfg.limit < 0) throw UsageError("--limit must be >= 0 (0 = all images)");
  if (cfg.grid < 0) throw UsageError("--grid must be >= 0 (0 = no grid)");
  if (cfg.size != 0 && (cfg.size < 16 || cfg.size > 4096)) throw UsageError("--size must be in [16, 4096]");
  if (!(cfg.inpaint_radius > 0)) throw UsageError("the inpainting radius must be positive");
  if (cfg.max_pixels < 64) throw UsageError("--max-pixels must be >= 64");
  std::set<std::string> seen;
  for (const auto& b : cfg.baselines) {
    const auto& known = known_baselines();
    if (std::find(known.begin(), known.end(), b) == known.end())
      throw UsageError("unknown baseline '" + b + "' (expected telea, ns or mean)");
    if (!seen.insert(b).second) throw UsageError("baseline '" + b + "' is listed twice");
  }
  if (cfg.model.empty() && cfg.predictions.empty() && cfg.baselines.empty())
    throw UsageError("nothing to evaluate: give --model, --predictions or --baselines");
  const MaskSpec mask_spec = parse_mask_spec(cfg);
  std::error_code ec;
  if (!cfg.predictions.empty() && !fs::is_directory(cfg.predictions, ec))
    throw InputError("--predictions '" + cfg.predictions + "' is not a folder");

  // ---- the images, and their masks / predictions ------------------------------
  std::vector<std::string> notes;
  DatasetFiles ds = list_split(cfg.data, cfg.split, notes);  // notes go out once every check has passed
  const int64_t listed = static_cast<int64_t>(ds.files.size());
  if (cfg.limit > 0 && listed > cfg.limit) ds.files.resize(static_cast<size_t>(cfg.limit));
  const fs::path root = common_dir(ds.files);
  std::vector<Item> items;
  for (const auto& f : ds.files) {
    fs::path rel = normal_abs(f).lexically_relative(root);
    rel.replace_extension();
    items.push_back({f, rel.generic_string(), "", ""});
  }
  auto match_all = [&](const std::string& folder, const char* what, std::string Item::*field) {
    const NameIndex index(folder);
    for (auto& it : items) {
      const std::string stem = fs::path(it.path).stem().string();
      it.*field = index.find(it.rel, stem);
      if ((it.*field).empty())
        throw InputError(std::string("no ") + what + " for '" + it.path + "' in " + folder + " (looked for " +
                         it.rel + ".*" + (it.rel != stem ? " and a unique " + stem + ".*" : std::string()) + ")");
    }
  };
  if (!mask_spec.generated) match_all(mask_spec.folder, "mask", &Item::mask_file);
  if (!cfg.predictions.empty()) match_all(cfg.predictions, "prediction", &Item::pred_file);

  // ---- the model --------------------------------------------------------------
  std::unique_ptr<Inpainter> inpainter;
  nlohmann::json model_json;
  if (!cfg.model.empty()) {
    InpaintOptions io;
    io.strategy = cfg.strategy;
    io.blend = cfg.blend;
    io.flip_average = cfg.flip_average;
    io.center_fit = cfg.center_fit;
    io.threads = cfg.threads;
    io.precision = cfg.precision;
    inpainter = std::make_unique<Inpainter>(cfg.model, io);
    model_json = {{"file", cfg.model},
                   {"kind", inpainter->model_header().value("kind", "")},
                   {"step", inpainter->model_header().value("step", int64_t{0})},
                   {"config", inpainter->model_config()},
                   {"strategy", to_string(cfg.strategy)},
                   {"blend", to_string(cfg.blend)},
                   {"flip_average", cfg.flip_average},
                   {"center_fit", cfg.center_fit},
                   {"precision", to_string(cfg.precision)}};
  }
  const int S = cfg.size > 0 ? cfg.size : inpainter ? inpainter->model_config().image_size : 128;
  if (inpainter && S != inpainter->model_config().image_size)
    notes.push_back("the protocol size " + std::to_string(S) + " differs from the model's image size " +
         std::to_string(inpainter->model_config().image_size) + "; the Inpainter resamples its windows");

  std::vector<std::string> methods;
  if (inpainter) methods.push_back("model");
  if (!cfg.predictions.empty()) methods.push_back("predictions");
  for (const auto& b : cfg.baselines) methods.push_back(b);

  const fs::path out_dir(cfg.out_dir);
  make_dirs(out_dir);
  for (const auto& n : notes) note(n);

  // ---- the loop ---------------------------------------------------------------
  std::vector<Accum> acc(methods.size());
  std::ostringstream csv;
  csv << "image,method,l1,l2,psnr,ssim,hole_pixels\n";
  std::vector<cv::Mat> grid_rows;
  bool noted_pred_resize = false;
  const int64_t total = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < total; ++i) {
    const Item& item = items[static_cast<size_t>(i)];
    const cv::Mat truth = squeeze(load_image_rgb(item.path, cfg.max_pixels), S);  // [S, S] RGB
    cv::Mat hole;                                                                    // [S, S] 0 / 255
    if (mask_spec.generated) {
      hole = generate_mask(mask_spec.cfg, S, S, mix_seed(cfg.seed, static_cast<uint64_t>(i)));
    } else {
      cv::Mat m = load_mask(item.mask_file, cfg.max_pixels);
      if (m.size() != cv::Size(S, S)) cv::resize(m, m, cv::Size(S, S), 0, 0, cv::INTER_NEAREST);
      hole = m >= 127;
    }
    const int hole_px = cv::countNonZero(hole);
    if (hole_px == 0)
      throw InputError("the mask of '" + item.path + "' has no hole pixels at " + std::to_string(S) + "x" +
                       std::to_string(S));
    if (hole_px == S * S)
      throw InputError("the mask of '" + item.path + "' covers the whole image; nothing to inpaint from");
    cv::Mat masked = truth.clone();  // what every method sees: the hole painted white
    masked.setTo(cv::Scalar::all(255), hole);

    std::vector<cv::Mat> outputs;  // composited, [S, S] RGB, one per method
    for (const auto& m : methods) {
      cv::Mat filled;
      if (m == "model") {
        filled = inpainter->inpaint(masked, hole);
      } else if (m == "predictions") {
        filled = load_image_rgb(item.pred_file, cfg.max_pixels);
        if (filled.size() != cv::Size(S, S)) {
          if (!noted_pred_resize)
            note("prediction '" + item.pred_file + "' is " + std::to_string(filled.cols) + "x" +
                 std::to_string(filled.rows) + "; predictions are resized to " + std::to_string(S) + "x" +
                 std::to_string(S) + " with INTER_AREA like the originals");
          noted_pred_resize = true;
          filled = squeeze(filled, S);
        }
      } else if (m == "telea" || m == "ns") {
        cv::inpaint(masked, hole, filled, cfg.inpaint_radius, m == "telea" ? cv::INPAINT_TELEA : cv::INPAINT_NS);
      } else {
        filled = mean_fill(masked, hole);
      }
      outputs.push_back(composite(masked, filled, hole));
    }

    for (size_t k = 0; k < methods.size(); ++k) {
      const HoleError e = hole_error(truth, outputs[k], hole);
      const double p = psnr_from_mse(e.mse()), s = ssim(truth, outputs[k]);
      acc[k].pooled += e;
      acc[k].psnr_sum += p;
      acc[k].ssim_sum += s;
      ++acc[k].images;
      csv << csv_field(item.path) << "," << methods[k] << "," << format_full(e.l1()) << ","
          << format_full(e.mse()) << "," << format_full(p) << "," << format_full(s) << "," << hole_px << "\n";
    }
    if (i < cfg.grid) {
      std::vector<cv::Mat> tiles{masked};
      tiles.insert(tiles.end(), outputs.begin(), outputs.end());
      tiles.push_back(truth);
      grid_rows.push_back(eval_grid_row(tiles));
    }
    if (cfg.save_images) {
      auto save = [&](const std::string& sub, const cv::Mat& img) {
        const fs::path p = out_dir / "images" / sub / (item.rel + ".png");
        make_dirs(p.parent_path());
        save_image(p.string(), img);
      };
      save("masked", masked);
      save("mask", hole);
      save("truth", truth);
      for (size_t k = 0; k < methods.size(); ++k) save(methods[k], outputs[k]);
    }
    if (cb.on_image) cb.on_image({i + 1, total, item.path});
  }

  // ---- results and report files -----------------------------------------------
  EvalResult res;
  res.images = total;
  res.size = S;
  res.layout = ds.layout;
  for (size_t k = 0; k < methods.size(); ++k) {
    MethodScore s;
    s.method = methods[k];
    s.l1 = acc[k].pooled.l1();
    s.l2 = acc[k].pooled.mse();
    s.images = acc[k].images;
    s.psnr_db = s.images ? acc[k].psnr_sum / static_cast<double>(s.images) : 0;
    s.ssim = s.images ? acc[k].ssim_sum / static_cast<double>(s.images) : 0;
    s.hole_values = acc[k].pooled.count;
    res.methods.push_back(s);
  }

  std::string center_desc;
  if (mask_spec.generated && mask_spec.cfg.kind == MaskKind::Center) {
    const cv::Rect r = cv::boundingRect(generate_mask(mask_spec.cfg, S, S, 0));
    center_desc = ": the central " + std::to_string(r.width) + "x" + std::to_string(r.height) + " of " +
                  std::to_string(S) + "x" + std::to_string(S) + " for every image";
  }
  EvalReportInputs report;
  report.cfg = &cfg;
  report.methods = methods;
  report.model = model_json;  // null without a model
  report.layout = ds.layout;
  report.images = total;
  report.listed = listed;
  report.size = S;
  report.mask_generated = mask_spec.generated;
  report.mask_name = mask_spec.generated ? std::string(to_string(mask_spec.cfg.kind)) : mask_spec.folder;
  report.mask_desc =
      mask_spec.generated
          ? std::string(to_string(mask_spec.cfg.kind)) + " (ctxenc::generate_mask, hole ratio " +
                format_fixed(cfg.hole_ratio, 3) +
                (mask_spec.cfg.kind == MaskKind::Center ? ")" + center_desc
                                                        : ", image i uses seed mix_seed(" +
                                                              std::to_string(cfg.seed) + ", i))")
          : "mask files from " + mask_spec.folder + " (matched by name, resized nearest-neighbour, >= 127 = hole)";
  report.grid_rows = static_cast<int>(grid_rows.size());

  res.report_md = (out_dir / "report.md").string();
  res.report_json = (out_dir / "report.json").string();
  res.per_image_csv = (out_dir / "per_image.csv").string();
  write_file_atomic(res.per_image_csv, csv.str());
  if (!grid_rows.empty()) {
    std::vector<std::string> labels{"input"};
    labels.insert(labels.end(), methods.begin(), methods.end());
    labels.push_back("truth");
    res.grid_png = (out_dir / "grid.png").string();
    save_image(res.grid_png, eval_grid_image(grid_rows, labels, S));
  }
  write_file_atomic(res.report_json, eval_report_json(report, res.methods).dump(2) + "\n");
  write_file_atomic(res.report_md, eval_report_markdown(report, res.methods));
  return res;
}

}  // namespace ctxenc
