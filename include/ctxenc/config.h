// ctxenc/config.h — the configuration of models and training runs, with
// defaults, checks and their JSON form (what checkpoints, model files and run
// folders store, and what recipes are written in), plus the process-wide
// runtime knobs. Inpainting and evaluation options live beside their functions
// (inpaint.h, evaluate.h). No torch here: a caller fills these structs (the CLI
// from its flags) and hands them to the library.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ctxenc/errors.h"

namespace ctxenc {

enum class Bottleneck {
  Channelwise,  // paper: channel-wise FC (m*n^4 weights) + stride-1 conv
  Dense         // released code: 4x4 conv to an nbottleneck vector + 4x4 up-conv
};
enum class OutputRegion {
  Center,  // predict the central (S/2)x(S/2) patch (released center model)
  Full     // predict the whole SxS image (random-region / free-form training)
};
enum class Precision { FP32, BF16 };
enum class HoleFill {
  Mean,  // the paper: hole pixels set to the dataset mean colour
  Telea  // hole pixels pre-filled by OpenCV Telea diffusion (radius 5)
};
enum class Upsampling {
  Transposed,  // released code: 4x4 stride-2 transposed convolution
  Bilinear     // x2 bilinear upsampling + 3x3 convolution (no checkerboard texture)
};
enum class MaskKind { Center, RandomBlock, RandomRegion, FreeForm, Mixed };
enum class CropFrame {
  ShortSide,  // a square-ish crop of U[min_crop, 1] x the short side at a random place (scale augmentation)
  Whole       // the whole photo squeezed to SxS, as `ctxenc eval` shows it, seen through a window of
              // U[min_crop, max_crop] x each side: > 1 adds a reflected border around the photo
};

// Architecture. Everything needed to rebuild a generator/discriminator pair.
struct ModelConfig {
  int image_size = 128;                  // input side S in px; power of two, >= 32
  int channels = 3;                      // image channels (RGB)
  int nef = 64;                          // encoder base width (first conv)
  int ngf = 64;                          // decoder base width
  int ndf = 64;                          // discriminator base width
  Bottleneck bottleneck = Bottleneck::Dense;  // released code's default
  int nbottleneck = 4000;                // dense bottleneck width
  OutputRegion output = OutputRegion::Center;
  Upsampling upsampling = Upsampling::Transposed;  // how each decoder layer doubles the resolution
  int overlap = 4;                       // center model: overlap ring width in px
  bool mask_channel = false;             // feed the hole mask as an extra input channel
  HoleFill fill = HoleFill::Mean;        // what the generator sees in the hole
  bool residual = false;                 // output = filled input (its output region) + decoder output
  bool global_discriminator = false;     // D judges the whole image instead of the predicted region
  std::array<float, 3> fill_mean = {117.f / 255.f, 104.f / 255.f, 123.f / 255.f};  // hole fill, RGB in [0,1]

  int num_down() const;          // encoder stride-2 layers: log2(S/4)
  int output_size() const;       // side of the generator output
  int output_offset() const;     // top-left of the output region in the input
  int discriminator_input() const;  // side of the image D sees
  void validate() const;         // throws UsageError naming the field of an impossible config
};

// Mask generation (see masks.h for the strategies).
struct MaskConfig {
  MaskKind kind = MaskKind::Center;
  double hole_ratio = 0.25;      // target fraction of the image that is hole
  double ratio_spread = 0.05;    // random-region: per-mask ratio ~ U[r - s, r + s]
  void validate() const;         // throws UsageError naming the field
};

// Data augmentation and loading.
struct DataConfig {
  std::string path;              // folder (recursive), Paris layout, class tree, or a .txt file list
  double min_crop = 0.3;         // random crop side as a fraction of the short side: U[min_crop, 1]
  double max_aspect = 1.5;       // crop aspect jitter: w/h in [1/max_aspect, max_aspect]
  CropFrame frame = CropFrame::ShortSide;  // what a crop's fraction is of (see CropFrame)
  double max_crop = 1.0;         // largest crop fraction; above 1 (frame whole only) the window
                                 // reaches past the photo, which is reflected there
  bool hflip = true;             // random horizontal flip
  int loader_threads = 0;        // decoding threads; 0 = hardware concurrency
  int prefetch_batches = 4;      // batches decoded ahead (bounds memory)
  int64_t cache_mb = 1024;       // decoded-image cache; 0 disables
  int max_short_side = 512;      // decoded images are first downscaled to this short side
  void validate() const;         // the crop settings; throws UsageError naming the field
};

// One training run.
struct TrainConfig {
  ModelConfig model;
  DataConfig data;
  MaskConfig mask;
  std::string out_dir;           // run dir: checkpoint.ctx, log.jsonl, samples/
  int batch_size = 64;
  int64_t steps = 20000;         // total optimizer steps (G and D each)
  double lr = 2e-4;              // Adam learning rate (D, and G before g_lr_mult)
  double beta1 = 0.5;            // Adam beta1
  double g_lr_mult = 1.0;        // generator lr multiplier (released code: 10)
  int64_t lr_decay_from = 0;     // > 0: from this step both learning rates fall linearly, reaching 0 at
                                 // `steps` (0 = constant); lets an annealed end follow a constant run
  double lambda_rec = 0.999;     // reconstruction weight
  double lambda_adv = 0.001;     // adversarial weight (0 disables D)
  double overlap_weight = 10.0;  // loss weight of the overlap ring
  double d_input_noise = 0.0;    // std of Gaussian noise added to every image D sees, real or fake
                                 // ([-1, 1] range; "instance noise"): D cannot win on fine texture alone
  double r1_gamma = 0.0;         // > 0: R1 penalty gamma/2 * E||d D(real)/d real||^2 added to D's loss
                                 // (Mescheder et al. 2018): D cannot make steep decisions, so it does not
                                 // saturate and G's adversarial gradient stays moderate
  double ema_decay = 0.0;        // > 0: keep an exponential moving average of G's weights (e.g. 0.999)
                                 // and ship/sample it; it averages out GAN oscillation
  bool ema_warmup = true;        // the average follows fast early on (decay (1+t)/(10+t) until that
                                 // reaches ema_decay), so it forgets a random init; false averages at
                                 // ema_decay from step 0 (fine-tuning: an average of init_from and its run)
  uint64_t seed = 0;             // everything random derives from this
  std::string init_from;         // a model file (.ctxm) or checkpoint whose generator weights start a
                                 // new run (fine-tuning; same architecture; D starts fresh); "" = random
  int threads = 0;               // intra-op threads; 0 = hardware concurrency
  Precision precision = Precision::FP32;
  int64_t log_every = 10;        // steps between log.jsonl lines
  int64_t save_every = 500;      // steps between checkpoints (overwritten in place)
  int64_t keep_every = 0;        // steps between kept model snapshots, RUN/snapshots/step_N.ctxm (0 = none):
                                 // the weights to ship, for picking a step after the run
  int64_t sample_every = 1000;   // steps between sample grids (0 = never)
  // Every setting that a run's values decide (not whether its folders exist);
  // throws UsageError naming the field.
  void validate() const;
};

// Enum names, as flags, JSON and reports spell them. parse_* throws UsageError
// listing the names it knows.
const char* to_string(Bottleneck b);
const char* to_string(OutputRegion o);
const char* to_string(Precision p);
const char* to_string(MaskKind k);
const char* to_string(HoleFill f);
const char* to_string(Upsampling u);
const char* to_string(CropFrame f);
Bottleneck parse_bottleneck(const std::string& s);
OutputRegion parse_output_region(const std::string& s);
Precision parse_precision(const std::string& s);
MaskKind parse_mask_kind(const std::string& s);
HoleFill parse_hole_fill(const std::string& s);
Upsampling parse_upsampling(const std::string& s);
CropFrame parse_crop_frame(const std::string& s);

// ---- JSON ----------------------------------------------------------------------
// Enums are their names; an unknown name is an error, never a default.
void to_json(nlohmann::json& j, Bottleneck v);
void to_json(nlohmann::json& j, OutputRegion v);
void to_json(nlohmann::json& j, Precision v);
void to_json(nlohmann::json& j, MaskKind v);
void to_json(nlohmann::json& j, HoleFill v);
void to_json(nlohmann::json& j, Upsampling v);
void to_json(nlohmann::json& j, CropFrame v);
void from_json(const nlohmann::json& j, Bottleneck& v);
void from_json(const nlohmann::json& j, OutputRegion& v);
void from_json(const nlohmann::json& j, Precision& v);
void from_json(const nlohmann::json& j, MaskKind& v);
void from_json(const nlohmann::json& j, HoleFill& v);
void from_json(const nlohmann::json& j, Upsampling& v);
void from_json(const nlohmann::json& j, CropFrame& v);

// Structs: every field, by its name; a field missing from the JSON keeps its
// default (older files stay readable). Adding a field means adding it here.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ModelConfig, image_size, channels, nef, ngf, ndf, bottleneck,
                                                nbottleneck, output, upsampling, overlap, mask_channel, fill,
                                                residual, global_discriminator, fill_mean)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MaskConfig, kind, hole_ratio, ratio_spread)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DataConfig, path, min_crop, max_aspect, frame, max_crop, hflip,
                                                loader_threads, prefetch_batches, cache_mb, max_short_side)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TrainConfig, model, data, mask, out_dir, batch_size, steps, lr,
                                                beta1, g_lr_mult, lr_decay_from, lambda_rec, lambda_adv,
                                                overlap_weight, d_input_noise, r1_gamma, ema_decay, ema_warmup,
                                                seed, init_from, threads, precision, log_every, save_every,
                                                keep_every, sample_every)

// JSON text as ctxenc reads it (file headers, recipes, run configs): a syntax
// error, or nesting deeper than kMaxJsonDepth (no config nests past 3), throws
// Error(code, what + ": " + reason) before the document is built.
constexpr int kMaxJsonDepth = 64;
nlohmann::json parse_json(const std::string& text, ExitCode code, const std::string& what);

// A ModelConfig or TrainConfig read from JSON (a file header, a run's
// config.json, a recipe). Unlike a plain get<T>(), a field the struct does not
// have is refused too (a typo in a recipe must not be ignored). Every failure
// (unknown field, wrong type, unknown enum name) throws Error(code, what + ": " + reason).
template <typename Config>
Config config_from_json(const nlohmann::json& j, ExitCode code, const std::string& what);

// ---- runtime -------------------------------------------------------------------
// Intra-op threads: n > 0 sets n; n == 0 uses $CTXENC_THREADS if set, else
// std::thread::hardware_concurrency(); n < 0 throws UsageError ("threads").
// libtorch defaults to 1 thread on this platform, so every entry point calls this.
void set_threads(int n);

// False on CPUs without AVX-512 (BW, VL and DQ, what PyTorch 1.13 asks of the
// CPU before it sends bfloat16 convolutions to oneDNN): there they fall back
// to a reference loop. Measured on a 2-core AVX2 machine: one center-model
// training step took over a minute in bf16 against 3.2 s in fp32.
bool bf16_convolutions_fast();
// The one-line warning printed when bf16 is asked for where it is slow.
const char* bf16_slow_warning();

}  // namespace ctxenc
