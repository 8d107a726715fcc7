// serve/request.cpp — form fields of an inpaint request -> a checked
// InpaintRequest (see request.h). Every value a client sends is checked here
// before any model work is queued.
#include "serve/request.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>

#include "ctxenc/errors.h"

namespace ctxenc::serve {
namespace {

const char* const kKnownFields[] = {"image", "mask", "model", "strategy", "blend",
                                    "context", "center_fit", "flip_average", "precision"};

// A printable, bounded copy of a client's value for an error message.
std::string quoted(const std::string& v) {
  std::string out;
  for (char c : v.substr(0, 64)) out += (c >= 32 && c < 127) ? c : '?';
  if (v.size() > 64) out += "...";
  return "'" + out + "'";
}

double parse_number(const std::string& name, const std::string& v) {
  errno = 0;
  char* end = nullptr;
  const double d = v.empty() ? 0 : std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || errno == ERANGE || !std::isfinite(d))
    throw UsageError("field '" + name + "' must be a number, not " + quoted(v));
  return d;
}

bool parse_bool(const std::string& name, const std::string& v) {
  if (v == "1" || v == "true" || v == "on" || v == "yes") return true;
  if (v == "0" || v == "false" || v == "off" || v == "no" || v.empty()) return false;
  throw UsageError("field '" + name + "' must be true or false, not " + quoted(v));
}

// A field's single value; UsageError when it is given twice.
std::map<std::string, const FormField*> index_fields(const std::vector<FormField>& fields) {
  std::map<std::string, const FormField*> by_name;
  for (const FormField& f : fields) {
    bool known = false;
    for (const char* k : kKnownFields) known = known || f.name == k;
    if (!known) throw UsageError("unknown field " + quoted(f.name) + " (see docs/api.md)");
    if (!by_name.emplace(f.name, &f).second) throw UsageError("field '" + f.name + "' is given twice");
  }
  return by_name;
}

bool is_upload(const FormField& f) {
  return !f.filename.empty() || f.content_type.rfind("image/", 0) == 0 ||
         f.content_type == "application/octet-stream";
}

}  // namespace

bool is_safe_model_name(const std::string& name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

InpaintRequest parse_inpaint_request(const std::vector<FormField>& fields, const RequestLimits& limits) {
  const auto by_name = index_fields(fields);
  auto value = [&](const char* name) -> const FormField* {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
  };
  InpaintRequest r;
  const FormField* model = value("model");
  if (!model || model->content.empty()) throw UsageError("field 'model' is required (GET /api/v1/models lists them)");
  if (!is_safe_model_name(model->content))
    throw UsageError("field 'model' must be a model name such as 'center', not a path: " + quoted(model->content));
  r.model = model->content;

  InpaintOptions& o = r.options;
  if (const FormField* f = value("strategy")) o.strategy = parse_strategy(f->content);
  if (const FormField* f = value("blend")) o.blend = parse_blend(f->content);
  if (const FormField* f = value("precision")) o.precision = parse_precision(f->content);
  if (const FormField* f = value("context")) o.context = parse_number("context", f->content);
  if (const FormField* f = value("center_fit")) o.center_fit = parse_number("center_fit", f->content);
  if (const FormField* f = value("flip_average")) o.flip_average = parse_bool("flip_average", f->content);
  o.validate();

  const FormField* image = value("image");
  if (!image) throw UsageError("field 'image' (a PNG, JPEG, WebP or BMP upload) is required");
  if (image->content.empty()) throw InputError("the uploaded image is empty");
  const FormField* mask = value("mask");
  if (!mask) throw UsageError("field 'mask' (a mask image, or center | rect:x,y,w,h) is required");
  // Both headers are checked before either file is decoded (a bomb costs nothing).
  const bool mask_file = is_upload(*mask);
  probe_image_bytes(image->content, "image", limits.max_pixels);
  if (mask_file) {
    if (mask->content.empty()) throw InputError("the uploaded mask is empty");
    probe_image_bytes(mask->content, "mask", limits.max_pixels);
  }
  r.image = decode_image_rgb(image->content, "image", limits.max_pixels);
  if (mask_file) {
    r.mask_spec.kind = MaskSpec::Kind::File;
    r.mask_spec.path = "mask";
    r.mask = fit_mask(decode_mask(mask->content, "mask", limits.max_pixels), r.image.size(), "mask",
                      &r.mask_resized);
  } else {
    r.mask_spec = parse_mask_spec(mask->content);
    if (r.mask_spec.kind == MaskSpec::Kind::File)
      throw UsageError("field 'mask' must be an uploaded image, 'center' or 'rect:x,y,w,h', not " +
                       quoted(mask->content) + " (files on the server are not read)");
    if (r.mask_spec.kind == MaskSpec::Kind::Rect) r.mask = rect_mask(r.mask_spec.rect, r.image.cols, r.image.rows);
  }
  return r;
}

}  // namespace ctxenc::serve
