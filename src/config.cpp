// config.cpp — config validation, enum names, and JSON (de)serialisation.
#include "ctxenc/config.h"

#include <nlohmann/json.hpp>

#include "ctxenc/errors.h"

namespace ctxenc {
namespace {

int log2_exact(int v) {
  int l = 0;
  while ((1 << l) < v) ++l;
  return (1 << l) == v ? l : -1;
}

template <typename E>
E parse_enum(const std::string& s, std::initializer_list<std::pair<const char*, E>> names,
             const char* what) {
  std::string all;
  for (auto& [n, e] : names) {
    if (s == n) return e;
    all += all.empty() ? n : std::string("|") + n;
  }
  throw UsageError(std::string("unknown ") + what + " '" + s + "' (expected " + all + ")");
}

// Reads key into v if present, so older/partial JSON keeps defaults.
template <typename T>
void get_opt(const nlohmann::json& j, const char* key, T& v) {
  if (j.contains(key)) j.at(key).get_to(v);
}

}  // namespace

int ModelConfig::num_down() const { return log2_exact(image_size) - 2; }
int ModelConfig::output_size() const {
  return output == OutputRegion::Center ? image_size / 2 : image_size;
}
int ModelConfig::output_offset() const {
  return output == OutputRegion::Center ? image_size / 4 : 0;
}
int ModelConfig::discriminator_input() const {
  return global_discriminator ? image_size : output_size();
}

void ModelConfig::validate() const {
  if (log2_exact(image_size) < 5 || image_size > 1024)
    throw UsageError("image size must be a power of two in [32, 1024], got " +
                     std::to_string(image_size));
  if (channels < 1 || channels > 4) throw UsageError("channels must be 1..4");
  if (nef < 1 || ngf < 1 || ndf < 1) throw UsageError("layer widths must be positive");
  if (bottleneck == Bottleneck::Dense && nbottleneck < 1)
    throw UsageError("nbottleneck must be positive");
  if (output == OutputRegion::Center && (overlap < 0 || 2 * overlap >= output_size()))
    throw UsageError("overlap must be in [0, " + std::to_string(output_size() / 2) + ")");
  for (float m : fill_mean)
    if (!(m >= 0.f && m <= 1.f)) throw UsageError("fill mean must be in [0, 1]");
}

const char* to_string(Bottleneck b) { return b == Bottleneck::Dense ? "dense" : "channelwise"; }
const char* to_string(OutputRegion o) { return o == OutputRegion::Center ? "center" : "full"; }
const char* to_string(Precision p) { return p == Precision::FP32 ? "fp32" : "bf16"; }
const char* to_string(Upsampling u) { return u == Upsampling::Transposed ? "transposed" : "bilinear"; }
Upsampling parse_upsampling(const std::string& s) {
  return parse_enum<Upsampling>(s, {{"transposed", Upsampling::Transposed}, {"bilinear", Upsampling::Bilinear}},
                                "upsampling");
}
const char* to_string(CropFrame f) { return f == CropFrame::ShortSide ? "short-side" : "whole"; }
CropFrame parse_crop_frame(const std::string& s) {
  return parse_enum<CropFrame>(s, {{"short-side", CropFrame::ShortSide}, {"whole", CropFrame::Whole}}, "crop frame");
}
const char* to_string(HoleFill f) { return f == HoleFill::Mean ? "mean" : "telea"; }
HoleFill parse_hole_fill(const std::string& s) {
  return parse_enum<HoleFill>(s, {{"mean", HoleFill::Mean}, {"telea", HoleFill::Telea}}, "hole fill");
}
const char* to_string(MaskKind k) {
  switch (k) {
    case MaskKind::Center: return "center";
    case MaskKind::RandomBlock: return "random-block";
    case MaskKind::RandomRegion: return "random-region";
    case MaskKind::FreeForm: return "free-form";
    case MaskKind::Mixed: return "mixed";
  }
  return "?";
}
Bottleneck parse_bottleneck(const std::string& s) {
  return parse_enum<Bottleneck>(
      s, {{"channelwise", Bottleneck::Channelwise}, {"dense", Bottleneck::Dense}}, "bottleneck");
}
OutputRegion parse_output_region(const std::string& s) {
  return parse_enum<OutputRegion>(
      s, {{"center", OutputRegion::Center}, {"full", OutputRegion::Full}}, "output region");
}
Precision parse_precision(const std::string& s) {
  return parse_enum<Precision>(s, {{"fp32", Precision::FP32}, {"bf16", Precision::BF16}},
                               "precision");
}
MaskKind parse_mask_kind(const std::string& s) {
  return parse_enum<MaskKind>(s,
                              {{"center", MaskKind::Center},
                               {"random-block", MaskKind::RandomBlock},
                               {"random-region", MaskKind::RandomRegion},
                               {"free-form", MaskKind::FreeForm},
                               {"mixed", MaskKind::Mixed}},
                              "mask kind");
}

void to_json(nlohmann::json& j, const ModelConfig& c) {
  j = {{"image_size", c.image_size}, {"channels", c.channels}, {"nef", c.nef},
       {"ngf", c.ngf}, {"ndf", c.ndf}, {"bottleneck", to_string(c.bottleneck)},
       {"nbottleneck", c.nbottleneck}, {"output", to_string(c.output)},
       {"overlap", c.overlap}, {"mask_channel", c.mask_channel},
       {"fill", to_string(c.fill)}, {"residual", c.residual}, {"upsampling", to_string(c.upsampling)},
       {"global_discriminator", c.global_discriminator}, {"fill_mean", c.fill_mean}};
}
void from_json(const nlohmann::json& j, ModelConfig& c) {
  get_opt(j, "image_size", c.image_size);
  get_opt(j, "channels", c.channels);
  get_opt(j, "nef", c.nef);
  get_opt(j, "ngf", c.ngf);
  get_opt(j, "ndf", c.ndf);
  if (j.contains("bottleneck")) c.bottleneck = parse_bottleneck(j.at("bottleneck"));
  get_opt(j, "nbottleneck", c.nbottleneck);
  if (j.contains("output")) c.output = parse_output_region(j.at("output"));
  get_opt(j, "overlap", c.overlap);
  get_opt(j, "mask_channel", c.mask_channel);
  if (j.contains("fill")) c.fill = parse_hole_fill(j.at("fill"));
  if (j.contains("upsampling")) c.upsampling = parse_upsampling(j.at("upsampling"));
  get_opt(j, "residual", c.residual);
  get_opt(j, "global_discriminator", c.global_discriminator);
  get_opt(j, "fill_mean", c.fill_mean);
}

void to_json(nlohmann::json& j, const MaskConfig& c) {
  j = {{"kind", to_string(c.kind)}, {"hole_ratio", c.hole_ratio},
       {"ratio_spread", c.ratio_spread}};
}
void from_json(const nlohmann::json& j, MaskConfig& c) {
  if (j.contains("kind")) c.kind = parse_mask_kind(j.at("kind"));
  get_opt(j, "hole_ratio", c.hole_ratio);
  get_opt(j, "ratio_spread", c.ratio_spread);
}

void to_json(nlohmann::json& j, const DataConfig& c) {
  j = {{"path", c.path}, {"min_crop", c.min_crop}, {"max_aspect", c.max_aspect},
       {"frame", to_string(c.frame)}, {"max_crop", c.max_crop},
       {"hflip", c.hflip}, {"loader_threads", c.loader_threads},
       {"prefetch_batches", c.prefetch_batches}, {"cache_mb", c.cache_mb},
       {"max_short_side", c.max_short_side}};
}
void from_json(const nlohmann::json& j, DataConfig& c) {
  get_opt(j, "path", c.path);
  get_opt(j, "min_crop", c.min_crop);
  get_opt(j, "max_aspect", c.max_aspect);
  if (j.contains("frame")) c.frame = parse_crop_frame(j.at("frame"));
  get_opt(j, "max_crop", c.max_crop);
  get_opt(j, "hflip", c.hflip);
  get_opt(j, "loader_threads", c.loader_threads);
  get_opt(j, "prefetch_batches", c.prefetch_batches);
  get_opt(j, "cache_mb", c.cache_mb);
  get_opt(j, "max_short_side", c.max_short_side);
}

void to_json(nlohmann::json& j, const TrainConfig& c) {
  j = {{"model", c.model}, {"data", c.data}, {"mask", c.mask}, {"out_dir", c.out_dir},
       {"batch_size", c.batch_size}, {"steps", c.steps}, {"lr", c.lr}, {"beta1", c.beta1},
       {"g_lr_mult", c.g_lr_mult}, {"lambda_rec", c.lambda_rec},
       {"lambda_adv", c.lambda_adv}, {"overlap_weight", c.overlap_weight},
       {"d_input_noise", c.d_input_noise}, {"r1_gamma", c.r1_gamma}, {"ema_decay", c.ema_decay}, {"ema_warmup", c.ema_warmup},
       {"lr_decay_from", c.lr_decay_from},
       {"seed", c.seed}, {"init_from", c.init_from}, {"threads", c.threads}, {"precision", to_string(c.precision)},
       {"log_every", c.log_every}, {"save_every", c.save_every}, {"keep_every", c.keep_every},
       {"sample_every", c.sample_every}};
}
void from_json(const nlohmann::json& j, TrainConfig& c) {
  get_opt(j, "model", c.model);
  get_opt(j, "data", c.data);
  get_opt(j, "mask", c.mask);
  get_opt(j, "out_dir", c.out_dir);
  get_opt(j, "batch_size", c.batch_size);
  get_opt(j, "steps", c.steps);
  get_opt(j, "lr", c.lr);
  get_opt(j, "beta1", c.beta1);
  get_opt(j, "g_lr_mult", c.g_lr_mult);
  get_opt(j, "lambda_rec", c.lambda_rec);
  get_opt(j, "lambda_adv", c.lambda_adv);
  get_opt(j, "overlap_weight", c.overlap_weight);
  get_opt(j, "d_input_noise", c.d_input_noise);
  get_opt(j, "r1_gamma", c.r1_gamma);
  get_opt(j, "ema_decay", c.ema_decay);
  get_opt(j, "ema_warmup", c.ema_warmup);
  get_opt(j, "lr_decay_from", c.lr_decay_from);
  get_opt(j, "seed", c.seed);
  get_opt(j, "init_from", c.init_from);
  get_opt(j, "threads", c.threads);
  if (j.contains("precision")) c.precision = parse_precision(j.at("precision"));
  get_opt(j, "log_every", c.log_every);
  get_opt(j, "save_every", c.save_every);
  get_opt(j, "keep_every", c.keep_every);
  get_opt(j, "sample_every", c.sample_every);
}

}  // namespace ctxenc
