// config.cpp — config checks, enum names, and reading configs from JSON.
#include "ctxenc/config.h"

#include <cmath>
#include <exception>
#include <limits>

#include "core/enum_names.h"

namespace ctxenc {
namespace {

// log2(v) for a power of two, else -1 (any int: no shift past 30).
int log2_exact(int v) {
  if (v <= 0) return -1;
  int l = 0;
  while (l < 30 && (1 << l) < v) ++l;
  return (1 << l) == v ? l : -1;
}

constexpr EnumNames<Bottleneck, 2> kBottlenecks = {{Bottleneck::Channelwise, "channelwise"},
                                                   {Bottleneck::Dense, "dense"}};
constexpr EnumNames<OutputRegion, 2> kOutputRegions = {{OutputRegion::Center, "center"},
                                                       {OutputRegion::Full, "full"}};
constexpr EnumNames<Precision, 2> kPrecisions = {{Precision::FP32, "fp32"}, {Precision::BF16, "bf16"}};
constexpr EnumNames<MaskKind, 5> kMaskKinds = {{MaskKind::Center, "center"},
                                               {MaskKind::RandomBlock, "random-block"},
                                               {MaskKind::RandomRegion, "random-region"},
                                               {MaskKind::FreeForm, "free-form"},
                                               {MaskKind::Mixed, "mixed"}};
constexpr EnumNames<HoleFill, 2> kHoleFills = {{HoleFill::Mean, "mean"}, {HoleFill::Telea, "telea"}};
constexpr EnumNames<Upsampling, 2> kUpsamplings = {{Upsampling::Transposed, "transposed"},
                                                   {Upsampling::Bilinear, "bilinear"}};
constexpr EnumNames<CropFrame, 2> kCropFrames = {{CropFrame::ShortSide, "short-side"}, {CropFrame::Whole, "whole"}};

void require(bool ok, const std::string& message) {
  if (!ok) throw UsageError(message);
}

}  // namespace

// ---- derived geometry and checks -------------------------------------------------

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
  require(log2_exact(image_size) >= 5 && image_size <= 1024,
          "image_size must be a power of two in [32, 1024], got " + std::to_string(image_size));
  require(channels >= 1 && channels <= 4, "channels must be 1..4");
  require(nef >= 1 && ngf >= 1 && ndf >= 1 && nef <= 1024 && ngf <= 1024 && ndf <= 1024,
          "layer widths (nef, ngf, ndf) must be in [1, 1024]");
  require(bottleneck != Bottleneck::Dense || (nbottleneck >= 1 && nbottleneck <= 65536),
          "nbottleneck must be in [1, 65536]");
  require(output != OutputRegion::Center || (overlap >= 0 && 2 * overlap < output_size()),
          "overlap must be in [0, " + std::to_string(output_size() / 2) + ")");
  for (float m : fill_mean) require(m >= 0.f && m <= 1.f, "fill_mean must be in [0, 1]");
}

void MaskConfig::validate() const {
  require(hole_ratio > 0.0 && hole_ratio < 1.0, "hole_ratio must be in (0, 1), got " + std::to_string(hole_ratio));
  require(ratio_spread >= 0.0, "ratio_spread must be >= 0");
}

void DataConfig::validate() const {
  const bool whole = frame == CropFrame::Whole;
  require(min_crop > 0 && min_crop <= (whole ? max_crop : 1.0),
          std::string("min_crop must be in (0, ") + (whole ? "max_crop" : "1") + "]");
  require(whole || max_crop == 1.0, "max_crop applies to frame whole only (a short-side crop ends at 1)");
  require(max_crop <= 2.0, "max_crop must be at most 2 (the photo filling half the window)");
  require(max_aspect >= 1.0, "max_aspect must be at least 1");
  require(loader_threads >= 0, "loader_threads must be >= 0 (0 = all cores)");
  require(cache_mb >= 0, "cache_mb must be >= 0 (0 = no cache)");
}

void TrainConfig::validate() const {
  model.validate();
  data.validate();
  mask.validate();
  require(batch_size >= 2, "batch_size must be at least 2 (BatchNorm needs a batch)");
  require(steps >= 1, "steps must be positive");
  require(lr >= 0, "lr must be >= 0");
  require(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1)");
  require(log_every >= 1 && save_every >= 1, "log_every and save_every must be at least 1 step");
  require(keep_every >= 0 && sample_every >= 0, "keep_every and sample_every must be 0 (never) or a number of steps");
  require(lr_decay_from >= 0 && lr_decay_from < steps, "lr_decay_from must be 0 (constant) or a step before steps");
  require(ema_decay >= 0 && ema_decay < 1, "ema_decay must be in [0, 1)");
  require(d_input_noise >= 0, "d_input_noise must be >= 0");
  require(r1_gamma >= 0, "r1_gamma must be >= 0");
  require(threads >= 0, "threads must be >= 0 (0 = all cores)");
}

// ---- enum names --------------------------------------------------------------------

const char* to_string(Bottleneck v) { return enum_name(kBottlenecks, v); }
const char* to_string(OutputRegion v) { return enum_name(kOutputRegions, v); }
const char* to_string(Precision v) { return enum_name(kPrecisions, v); }
const char* to_string(MaskKind v) { return enum_name(kMaskKinds, v); }
const char* to_string(HoleFill v) { return enum_name(kHoleFills, v); }
const char* to_string(Upsampling v) { return enum_name(kUpsamplings, v); }
const char* to_string(CropFrame v) { return enum_name(kCropFrames, v); }
Bottleneck parse_bottleneck(const std::string& s) { return parse_enum(kBottlenecks, s, "bottleneck"); }
OutputRegion parse_output_region(const std::string& s) { return parse_enum(kOutputRegions, s, "output region"); }
Precision parse_precision(const std::string& s) { return parse_enum(kPrecisions, s, "precision"); }
MaskKind parse_mask_kind(const std::string& s) { return parse_enum(kMaskKinds, s, "mask kind"); }
HoleFill parse_hole_fill(const std::string& s) { return parse_enum(kHoleFills, s, "hole fill"); }
Upsampling parse_upsampling(const std::string& s) { return parse_enum(kUpsamplings, s, "upsampling"); }
CropFrame parse_crop_frame(const std::string& s) { return parse_enum(kCropFrames, s, "crop frame"); }

// ---- JSON ---------------------------------------------------------------------------

void to_json(nlohmann::json& j, Bottleneck v) { j = to_string(v); }
void to_json(nlohmann::json& j, OutputRegion v) { j = to_string(v); }
void to_json(nlohmann::json& j, Precision v) { j = to_string(v); }
void to_json(nlohmann::json& j, MaskKind v) { j = to_string(v); }
void to_json(nlohmann::json& j, HoleFill v) { j = to_string(v); }
void to_json(nlohmann::json& j, Upsampling v) { j = to_string(v); }
void to_json(nlohmann::json& j, CropFrame v) { j = to_string(v); }
void from_json(const nlohmann::json& j, Bottleneck& v) { v = parse_bottleneck(j.get<std::string>()); }
void from_json(const nlohmann::json& j, OutputRegion& v) { v = parse_output_region(j.get<std::string>()); }
void from_json(const nlohmann::json& j, Precision& v) { v = parse_precision(j.get<std::string>()); }
void from_json(const nlohmann::json& j, MaskKind& v) { v = parse_mask_kind(j.get<std::string>()); }
void from_json(const nlohmann::json& j, HoleFill& v) { v = parse_hole_fill(j.get<std::string>()); }
void from_json(const nlohmann::json& j, Upsampling& v) { v = parse_upsampling(j.get<std::string>()); }
void from_json(const nlohmann::json& j, CropFrame& v) { v = parse_crop_frame(j.get<std::string>()); }

namespace {

// Throws UsageError for the first key of j that `known` (the JSON of a
// default-constructed struct) lacks, descending into nested structs, and for
// a number that cannot become its field's type without undefined behaviour:
// a fraction or an out-of-range value for an integer field, a value past a
// float's range in an array (the arrays of configs hold floats).
void check_fields(const nlohmann::json& j, const nlohmann::json& known, const std::string& prefix) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto k = known.find(it.key());
    const std::string name = prefix + it.key();
    if (k == known.end()) throw UsageError("unknown field '" + name + "'");
    if (k->is_object() && it->is_object()) check_fields(*it, *k, name + ".");
    if (k->is_number_integer() && it->is_number_float())
      throw UsageError("field '" + name + "' must be an integer, got " + it->dump());
    if (k->is_array() && it->is_array())
      for (const auto& v : *it)
        if (v.is_number() && !(std::abs(v.get<double>()) <= std::numeric_limits<float>::max()))
          throw UsageError("field '" + name + "' holds " + v.dump() + ", out of range");
  }
}

// After reading: an integer that did not survive the trip into its field
// (4294967298 into an int, -1 into an unsigned seed) was out of range.
void check_round_trip(const nlohmann::json& in, const nlohmann::json& out, const std::string& prefix) {
  for (auto it = in.begin(); it != in.end(); ++it) {
    const auto o = out.find(it.key());
    if (o == out.end()) continue;
    if (it->is_object() && o->is_object()) check_round_trip(*it, *o, prefix + it.key() + ".");
    else if (it->is_number_integer() && o->is_number_integer() && it->dump() != o->dump())  // by text: json compares -1 and 2^64-1 equal
      throw UsageError("field '" + prefix + it.key() + "' is out of range: " + it->dump());
  }
}

// nlohmann's messages start with "[json.exception.type_error.302] ": the reader needs the rest.
std::string json_reason(const nlohmann::json::exception& e) {
  const std::string s = e.what();
  const auto close = s.find("] ");
  return s.rfind("[json.exception.", 0) == 0 && close != std::string::npos ? s.substr(close + 2) : s;
}

}  // namespace

nlohmann::json parse_json(const std::string& text, ExitCode code, const std::string& what) {
  const nlohmann::json::parser_callback_t limit_depth = [](int depth, nlohmann::json::parse_event_t,
                                                          nlohmann::json&) {
    if (depth > kMaxJsonDepth)
      throw UsageError("nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    return true;
  };
  try {
    return nlohmann::json::parse(text, limit_depth);
  } catch (const nlohmann::json::exception& e) {
    throw_error(code, what + ": " + json_reason(e));
  } catch (const Error& e) {
    throw_error(code, what + ": " + e.what());
  }
}

template <typename Config>
Config config_from_json(const nlohmann::json& j, ExitCode code, const std::string& what) {
  try {
    if (!j.is_object()) throw UsageError(std::string("expected a JSON object, got ") + j.type_name());
    check_fields(j, nlohmann::json(Config{}), "");
    Config c = j.get<Config>();
    check_round_trip(j, nlohmann::json(c), "");
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw_error(code, what + ": " + json_reason(e));
  } catch (const Error& e) {
    throw_error(code, what + ": " + e.what());
  }
}
template ModelConfig config_from_json<ModelConfig>(const nlohmann::json&, ExitCode, const std::string&);
template TrainConfig config_from_json<TrainConfig>(const nlohmann::json&, ExitCode, const std::string&);

}  // namespace ctxenc
