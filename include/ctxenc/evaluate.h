// ctxenc/evaluate.h — the paper's evaluation (mean L1 / L2 on the hole, PSNR)
// plus SSIM, for a trained model, already-inpainted images from other tools,
// and classical baselines, all on the same images and the same masks.
//
// Protocol: every image is squeezed (cv::INTER_AREA, aspect not kept) to
// size x size; a hole is cut from it (a generated mask, or a mask file); every
// method gets the same masked input and its output is composited (known pixels
// are the input's); metrics compare with the resized original (see metrics.h).
//
// Writes into out_dir: report.md, report.json, per_image.csv, grid.png (and
// with save_images, images/<method>/... at the protocol size).
// Torch-free interface; the library reports progress through callbacks.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ctxenc/config.h"
#include "ctxenc/image_io.h"
#include "ctxenc/inpaint.h"

namespace ctxenc {

enum class EvalSplit {
  Val,    // the validation split of train/val or Paris layouts; all images of a plain folder or list
  Train,  // the training split; all images of a plain folder or list
  All     // both splits
};
const char* to_string(EvalSplit s);
EvalSplit parse_eval_split(const std::string& s);  // "val" | "train" | "all"; throws UsageError

// Names accepted in EvalConfig::baselines.
//   telea: cv::inpaint INPAINT_TELEA, ns: cv::inpaint INPAINT_NS (Navier-Stokes),
//   mean:  the hole filled with the mean colour of the image's known pixels.
const std::vector<std::string>& known_baselines();

// InpaintOptions with Blend::None: what the evaluation scores by default.
inline InpaintOptions raw_prediction_options() {
  InpaintOptions o;
  o.blend = Blend::None;
  return o;
}

struct EvalConfig {
  std::string data;             // dataset: any layout list_dataset accepts (folder, train/val, Paris, .txt list)
  EvalSplit split = EvalSplit::Val;
  std::string model;            // model file (.ctxm) or checkpoint (.ctx); empty = no model row
  std::string predictions;      // folder of already-inpainted images; empty = none (*)
  std::string mask = "center";  // center | random-block | random-region | free-form | a folder of mask images (*)
  double hole_ratio = MaskConfig{}.hole_ratio;  // generated masks: fraction of the image that is hole
  std::vector<std::string> baselines = {"telea", "ns", "mean"};  // any of known_baselines(), in row order
  double inpaint_radius = 5.0;  // telea / ns: cv::inpaint radius in px
  uint64_t seed = 0;            // random masks: image i uses generate_mask(..., mix_seed(seed, i))
  int64_t limit = 0;            // evaluate the first `limit` images of the sorted list; 0 = all
  int grid = 8;                 // rows (images) in grid.png; 0 = no grid
  int size = 0;                 // protocol side S in px; 0 = the model's image_size, else 128
  // model: how the Inpainter fills each hole; the default scores the raw
  // prediction (no blend), every other option as `ctxenc inpaint` has it.
  InpaintOptions inpaint = raw_prediction_options();
  int64_t max_pixels = kDefaultMaxPixels;  // refuse dataset images above this (checked before decoding)
  bool save_images = false;     // also write images/{masked,mask,truth,<method>}/<name>.png
  std::string out_dir;          // report folder (created)
  // Every setting, and that there is something to evaluate; throws UsageError
  // naming the field. The dataset and folders are checked when they are read.
  void validate() const;
};
// (*) Files in a mask or prediction folder are matched to dataset images by
// ImageFolderIndex's rule (ctxenc/image_io.h), with paths relative to the
// dataset's common folder: first "forest/tree.*" for DATA/val/forest/tree.jpg,
// then a bare "tree.*" when that is unique.
// Masks are resized nearest-neighbour to S x S (>= 127 = hole); predictions of
// another size are resized to S x S with cv::INTER_AREA, like the originals.
// images/masked/ and images/mask/ (save_images) are the inputs to give other
// tools; their outputs, named alike, go into a predictions folder.

// Scores of one method over the whole set.
struct MethodScore {
  std::string method;       // "model", "predictions", "telea", "ns", "mean"
  double l1 = 0;            // pooled mean |error| over all hole pixels x channels, in [0, 1]
  double l2 = 0;            // pooled mean squared error over all hole pixels x channels, in [0, 1]
  double psnr_db = 0;       // mean over images of the per-image hole PSNR (capped at kPsnrCapDb)
  double ssim = 0;          // mean over images of the whole-image SSIM
  int64_t images = 0;       // images scored
  int64_t hole_values = 0;  // hole pixels x channels pooled into l1 / l2
};

struct EvalResult {
  std::vector<MethodScore> methods;  // rows in report order
  int64_t images = 0;                // images evaluated
  int size = 0;                      // protocol side S used
  std::string layout;                // dataset layout ("split", "paris", "folder", "list")
  std::string report_md, report_json, per_image_csv, grid_png;  // paths written ("" if not)
};

struct EvalProgress {
  int64_t done = 0;   // images finished
  int64_t total = 0;  // images to evaluate
  std::string image;  // path of the image just finished
};

struct EvalCallbacks {
  std::function<void(const EvalProgress&)> on_image;   // after every image
  std::function<void(const std::string&)> on_message;  // notes, one line each
};

// Runs the evaluation and writes the report files. Throws UsageError (bad
// config, unknown baseline), DataError (missing or empty dataset), InputError
// (unreadable image, missing mask or prediction: the message names the image),
// ModelFileError, OutputError.
EvalResult run_evaluation(const EvalConfig& cfg, const EvalCallbacks& cb = {});

}  // namespace ctxenc
