// evaluate.cpp — the evaluation protocol: dataset -> S x S images and holes ->
// fill methods (model, predictions, baselines) -> composited outputs ->
// metrics -> report files (report.md, report.json, per_image.csv, grid.png;
// eval_report.h draws and describes them).
#include "ctxenc/evaluate.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "core/enum_names.h"
#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "ctxenc/masks.h"
#include "ctxenc/metrics.h"
#include "eval/eval_report.h"
#include "eval/fill_methods.h"
#include "io/dataset.h"

namespace ctxenc {
namespace fs = std::filesystem;
namespace {

constexpr EnumNames<EvalSplit, 3> kSplits = {{EvalSplit::Val, "val"}, {EvalSplit::Train, "train"}, {EvalSplit::All, "all"}};

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

// One dataset image and what belongs to it.
struct Item {
  std::string path;       // as listed by the dataset
  std::string rel;        // relative to the dataset's common folder, no extension, '/'-separated
  std::string mask_file;  // mask folder mode: its mask
  std::string pred_file;  // predictions mode: its prediction
};

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
  auto note_no_split = [&](const DatasetFiles& d) {
    const bool none = d.layout == "folder" || d.layout == "list";
    if (none) notes.push_back("the dataset (" + d.layout + " layout) has no train/val split: evaluating all its images");
    return none;
  };
  if (split != EvalSplit::All) {
    DatasetFiles d = list_dataset(path, split == EvalSplit::Train ? Split::Train : Split::Val);
    note_no_split(d);
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
      if (note_no_split(d)) break;  // no split: one listing is everything
    } catch (const DataError& e) {
      last = e;
    }
  }
  if (out.files.empty()) throw last ? *last : DataError("dataset '" + path + "' holds no images");
  std::sort(out.files.begin(), out.files.end());
  out.files.erase(std::unique(out.files.begin(), out.files.end()), out.files.end());
  return out;
}

struct EvalMasks {
  bool generated = true;
  MaskConfig cfg;       // generated masks
  std::string folder;   // mask folder
};

EvalMasks eval_masks(const EvalConfig& c) {
  EvalMasks m;
  m.cfg.hole_ratio = c.hole_ratio;
  for (MaskKind k : {MaskKind::Center, MaskKind::RandomBlock, MaskKind::RandomRegion, MaskKind::FreeForm})
    if (c.mask == to_string(k)) {
      m.cfg.kind = k;
      return m;
    }
  std::error_code ec;
  if (!fs::is_directory(c.mask, ec))
    throw UsageError("mask '" + c.mask +
                     "' is neither center|random-block|random-region|free-form nor an existing folder of masks");
  m.generated = false;
  m.folder = c.mask;
  return m;
}

// ---- images and holes -------------------------------------------------------------

// The dataset's images in order, each with its relative name and (folders) its mask or prediction.
std::vector<Item> list_items(const std::vector<std::string>& files, const EvalMasks& masks,
                             const std::string& predictions) {
  const fs::path root = common_dir(files);
  std::vector<Item> items;
  for (const auto& f : files) {
    fs::path rel = normal_abs(f).lexically_relative(root);
    rel.replace_extension();
    items.push_back({f, rel.generic_string(), "", ""});
  }
  auto match_all = [&](const std::string& folder, const char* what, std::string Item::*field) {
    const ImageFolderIndex index(folder);
    for (auto& it : items) {
      it.*field = index.find(it.rel);
      const std::string stem = fs::path(it.rel).filename().string();
      if ((it.*field).empty())
        throw InputError(std::string("no ") + what + " for '" + it.path + "' in " + folder + " (looked for " +
                         it.rel + ".*" + (it.rel != stem ? " and a unique " + stem + ".*" : std::string()) + ")");
    }
  };
  if (!masks.generated) match_all(masks.folder, "mask", &Item::mask_file);
  if (!predictions.empty()) match_all(predictions, "prediction", &Item::pred_file);
  return items;
}

// Image i's S x S hole, 0 / 255: generated from the seed, or its mask file resized.
cv::Mat item_hole(const EvalMasks& masks, const Item& item, int64_t i, int S, const EvalConfig& cfg) {
  cv::Mat hole;
  if (masks.generated) {
    hole = generate_mask(masks.cfg, S, S, mix_seed(cfg.seed, static_cast<uint64_t>(i)));
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
  return hole;
}

nlohmann::json describe_model(const EvalConfig& cfg, const Inpainter& inpainter) {
  const InpaintOptions& io = cfg.inpaint;
  return {{"file", cfg.model},
          {"kind", inpainter.model_header().value("kind", "")},
          {"step", inpainter.model_header().value("step", int64_t{0})},
          {"config", inpainter.model_config()},
          {"strategy", to_string(io.strategy)},
          {"blend", to_string(io.blend)},
          {"flip_average", io.flip_average},
          {"center_fit", io.center_fit},
          {"precision", to_string(io.precision)}};
}

std::string describe_masks(const EvalMasks& masks, const EvalConfig& cfg, int S) {
  if (!masks.generated)
    return "mask files from " + masks.folder + " (matched by name, resized nearest-neighbour, >= 127 = hole)";
  std::string d = std::string(to_string(masks.cfg.kind)) + " (ctxenc::generate_mask, hole ratio " +
                  format_fixed(cfg.hole_ratio, 3);
  if (masks.cfg.kind != MaskKind::Center)
    return d + ", image i uses seed mix_seed(" + std::to_string(cfg.seed) + ", i))";
  const cv::Rect r = cv::boundingRect(generate_mask(masks.cfg, S, S, 0));
  return d + "): the central " + std::to_string(r.width) + "x" + std::to_string(r.height) + " of " +
         std::to_string(S) + "x" + std::to_string(S) + " for every image";
}

// Accumulated scores of one method.
struct Accum {
  HoleError pooled;
  double psnr_sum = 0, ssim_sum = 0;
  int64_t images = 0;

  MethodScore score(const std::string& method) const {
    MethodScore s;
    s.method = method;
    s.l1 = pooled.l1();
    s.l2 = pooled.mse();
    s.images = images;
    s.psnr_db = images ? psnr_sum / static_cast<double>(images) : 0;
    s.ssim = images ? ssim_sum / static_cast<double>(images) : 0;
    s.hole_values = pooled.count;
    return s;
  }
};

// What the loop over the images gathers: each method's scores, the per-image
// CSV and the grid's rows.
struct Tally {
  std::vector<Accum> acc;
  std::ostringstream csv;
  std::vector<cv::Mat> grid_rows;

  explicit Tally(size_t methods) : acc(methods) { csv << "image,method,l1,l2,psnr,ssim,hole_pixels\n"; }

  // One image: truth, its hole, the masked input and each method's composited output.
  void add(const Item& item, const std::vector<FillMethod>& methods, const cv::Mat& truth, const cv::Mat& hole,
           const cv::Mat& masked, const std::vector<cv::Mat>& outputs, bool in_grid) {
    for (size_t k = 0; k < methods.size(); ++k) {
      const HoleError e = hole_error(truth, outputs[k], hole);
      const double p = psnr_from_mse(e.mse()), s = ssim(truth, outputs[k]);
      acc[k].pooled += e;
      acc[k].psnr_sum += p;
      acc[k].ssim_sum += s;
      ++acc[k].images;
      csv << csv_field(item.path) << "," << methods[k].name << "," << format_full(e.l1()) << ","
          << format_full(e.mse()) << "," << format_full(p) << "," << format_full(s) << "," << cv::countNonZero(hole)
          << "\n";
    }
    if (!in_grid) return;
    std::vector<cv::Mat> tiles{masked};
    tiles.insert(tiles.end(), outputs.begin(), outputs.end());
    tiles.push_back(truth);
    grid_rows.push_back(eval_grid_row(tiles));
  }
};

// save_images: OUT/images/{masked,mask,truth,<method>}/<rel>.png.
void save_item_images(const fs::path& out_dir, const Item& item, const std::vector<FillMethod>& methods,
                      const cv::Mat& masked, const cv::Mat& hole, const cv::Mat& truth,
                      const std::vector<cv::Mat>& outputs) {
  auto save = [&](const std::string& sub, const cv::Mat& img) {
    const fs::path p = out_dir / "images" / sub / (item.rel + ".png");
    make_dirs(p.parent_path());
    save_image(p.string(), img);
  };
  save("masked", masked);
  save("mask", hole);
  save("truth", truth);
  for (size_t k = 0; k < methods.size(); ++k) save(methods[k].name, outputs[k]);
}

// Writes per_image.csv, grid.png, report.json and report.md; fills res's scores and paths.
void write_reports(const fs::path& out_dir, const EvalReportInputs& report, const Tally& tally, EvalResult& res) {
  for (size_t k = 0; k < report.methods.size(); ++k) res.methods.push_back(tally.acc[k].score(report.methods[k]));
  res.report_md = (out_dir / "report.md").string();
  res.report_json = (out_dir / "report.json").string();
  res.per_image_csv = (out_dir / "per_image.csv").string();
  write_file_atomic(res.per_image_csv, tally.csv.str());
  if (!tally.grid_rows.empty()) {
    std::vector<std::string> labels{"input"};
    labels.insert(labels.end(), report.methods.begin(), report.methods.end());
    labels.push_back("truth");
    res.grid_png = (out_dir / "grid.png").string();
    save_image(res.grid_png, eval_grid_image(tally.grid_rows, labels, report.size));
  }
  write_file_atomic(res.report_json, eval_report_json(report, res.methods).dump(2) + "\n");
  write_file_atomic(res.report_md, eval_report_markdown(report, res.methods));
}

}  // namespace

const char* to_string(EvalSplit s) { return enum_name(kSplits, s); }
EvalSplit parse_eval_split(const std::string& s) { return parse_enum(kSplits, s, "split"); }

void EvalConfig::validate() const {
  if (out_dir.empty()) throw UsageError("out_dir (the report folder) is required");
  if (data.empty()) throw UsageError("data (the dataset) is required");
  if (!(hole_ratio > 0.0 && hole_ratio < 1.0))
    throw UsageError("hole_ratio must be in (0, 1), got " + std::to_string(hole_ratio));
  if (limit < 0) throw UsageError("limit must be >= 0 (0 = all images)");
  if (grid < 0) throw UsageError("grid must be >= 0 (0 = no grid)");
  if (size != 0 && (size < 16 || size > 4096)) throw UsageError("size must be 0 or in [16, 4096]");
  if (!(inpaint_radius > 0)) throw UsageError("inpaint_radius must be positive");
  if (max_pixels < 64) throw UsageError("max_pixels must be >= 64");
  inpaint.validate();
  std::set<std::string> seen;
  for (const auto& b : baselines) {
    const auto& known = known_baselines();
    if (std::find(known.begin(), known.end(), b) == known.end())
      throw UsageError("unknown baseline '" + b + "' (expected telea, ns or mean)");
    if (!seen.insert(b).second) throw UsageError("baseline '" + b + "' is listed twice");
  }
  if (model.empty() && predictions.empty() && baselines.empty())
    throw UsageError("nothing to evaluate: give a model, predictions or baselines");
}

EvalResult run_evaluation(const EvalConfig& cfg, const EvalCallbacks& cb) {
  auto note = [&](const std::string& s) {
    if (cb.on_message) cb.on_message(s);
  };

  // ---- checks that need no data, fastest first ------------------------------
  cfg.validate();
  const EvalMasks mask_spec = eval_masks(cfg);
  std::error_code ec;
  if (!cfg.predictions.empty() && !fs::is_directory(cfg.predictions, ec))
    throw InputError("predictions '" + cfg.predictions + "' is not a folder");

  // ---- the images, the model, the methods ---------------------------------------
  std::vector<std::string> notes;
  DatasetFiles ds = list_split(cfg.data, cfg.split, notes);  // notes go out once every check has passed
  const int64_t listed = static_cast<int64_t>(ds.files.size());
  if (cfg.limit > 0 && listed > cfg.limit) ds.files.resize(static_cast<size_t>(cfg.limit));
  const std::vector<Item> items = list_items(ds.files, mask_spec, cfg.predictions);
  std::unique_ptr<Inpainter> inpainter;
  if (!cfg.model.empty()) inpainter = std::make_unique<Inpainter>(cfg.model, cfg.inpaint);
  const int S = cfg.size > 0 ? cfg.size : inpainter ? inpainter->model_config().image_size : 128;
  if (inpainter && S != inpainter->model_config().image_size)
    notes.push_back("the protocol size " + std::to_string(S) + " differs from the model's image size " +
                    std::to_string(inpainter->model_config().image_size) + "; the Inpainter resamples its windows");
  const std::vector<FillMethod> methods = fill_methods(cfg, inpainter.get(), S, note);
  const fs::path out_dir(cfg.out_dir);
  make_dirs(out_dir);
  for (const auto& n : notes) note(n);

  // ---- the loop ---------------------------------------------------------------
  Tally tally(methods.size());
  const int64_t total = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < total; ++i) {
    const Item& item = items[static_cast<size_t>(i)];
    const cv::Mat truth = squeeze(load_image_rgb(item.path, cfg.max_pixels), S);  // [S, S] RGB
    const cv::Mat hole = item_hole(mask_spec, item, i, S, cfg);                     // [S, S] 0 / 255
    cv::Mat masked = truth.clone();  // what every method sees: the hole painted white
    masked.setTo(cv::Scalar::all(255), hole);
    std::vector<cv::Mat> outputs;    // composited, [S, S] RGB, one per method
    for (const auto& m : methods) outputs.push_back(composite(masked, m.fill(item.pred_file, masked, hole), hole));
    tally.add(item, methods, truth, hole, masked, outputs, /*in_grid=*/i < cfg.grid);
    if (cfg.save_images) save_item_images(out_dir, item, methods, masked, hole, truth, outputs);
    if (cb.on_image) cb.on_image({i + 1, total, item.path});
  }

  // ---- results and report files -----------------------------------------------
  EvalReportInputs report;
  report.cfg = &cfg;
  for (const auto& m : methods) report.methods.push_back(m.name);
  report.model = inpainter ? describe_model(cfg, *inpainter) : nlohmann::json();  // null without a model
  report.layout = ds.layout;
  report.images = total;
  report.listed = listed;
  report.size = S;
  report.mask_generated = mask_spec.generated;
  report.mask_name = mask_spec.generated ? std::string(to_string(mask_spec.cfg.kind)) : mask_spec.folder;
  report.mask_desc = describe_masks(mask_spec, cfg, S);
  report.grid_rows = static_cast<int>(tally.grid_rows.size());
  EvalResult res;
  res.images = total;
  res.size = S;
  res.layout = ds.layout;
  write_reports(out_dir, report, tally, res);
  return res;
}

}  // namespace ctxenc
