// model/torch_weights.cpp — generator weights in and out of PyTorch:
// export_torch_state_dict writes a model file's generator as a torch.save
// zip (data.pkl written by io/pickle.cpp, float32 storages in data/N, the
// version record) named as python/ctxenc_torch.py's modules;
// import_torch_state_dict reads a torch.save'd state_dict through the
// restricted pickle reader and the archive gate, maps the public PyTorch
// Context Encoder generator (_netG) or ctxenc's own names onto a Generator,
// checks every shape, and writes a model file.
#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <functional>
#include <map>
#include <set>

#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "ctxenc/model_info.h"
#include "io/pickle.h"
#include "io/torch_archive.h"
#include "model/model_file.h"
#include "model/networks.h"

namespace ctxenc {
namespace {

torch::Dtype dtype_of(const std::string& name) {
  static const std::map<std::string, torch::Dtype> m = {
      {"float32", torch::kFloat32}, {"float64", torch::kFloat64}, {"float16", torch::kFloat16},
      {"bfloat16", torch::kBFloat16}, {"int64", torch::kInt64}, {"int32", torch::kInt32},
      {"int16", torch::kInt16}, {"int8", torch::kInt8}, {"uint8", torch::kUInt8}, {"bool", torch::kBool}};
  return m.at(name);
}

using TensorMap = std::map<std::string, torch::Tensor>;

// name -> tensor of a torch.save'd state dict, every storage checked against its record.
TensorMap read_state_dict(const std::string& path) {
  const std::string what = "'" + path + "'";
  const std::string bytes = read_file(path, kExitModel);
  const auto entries = torch_archive_entries(bytes, what);
  auto pkl = entries.find("data.pkl");
  if (pkl == entries.end()) throw ModelFileError(what + ": not a torch.save file (no data.pkl)");
  const PickleDocument doc = parse_pickle(pkl->second, what);
  TensorMap out;
  for (const auto& [name, t] : state_dict_entries(doc, what)) {
    auto rec = entries.find("data/" + t->storage_key);
    if (rec == entries.end()) throw ModelFileError(what + ": tensor '" + name + "' has no storage record");
    const uint64_t elem = static_cast<uint64_t>(pickle_dtype_size(t->dtype));
    const uint64_t numel = static_cast<uint64_t>(t->storage_numel);
    if (numel > rec->second.size() || numel * elem != rec->second.size())
      throw ModelFileError(what + ": storage of '" + name + "' declares " + std::to_string(t->storage_numel) +
                           " elements but its record holds " + std::to_string(rec->second.size()) + " bytes");
    torch::Tensor storage = torch::empty({t->storage_numel}, torch::TensorOptions().dtype(dtype_of(t->dtype)));
    if (!rec->second.empty()) std::memcpy(storage.data_ptr(), rec->second.data(), rec->second.size());
    torch::Tensor v = storage.as_strided(t->size, t->stride, t->offset).clone();
    if (!out.emplace(name, v).second) throw ModelFileError(what + ": holds '" + name + "' twice");
  }
  // nn.DataParallel saves "module.<name>".
  bool all_module = true;
  for (const auto& [name, v] : out) all_module = all_module && name.rfind("module.", 0) == 0;
  if (all_module) {
    TensorMap stripped;
    for (auto& [name, v] : out) stripped.emplace(name.substr(7), v);
    out = std::move(stripped);
  }
  return out;
}

// Assigns every parameter and buffer of g from `named` (ctxenc names), checking
// shapes; `origin` gives the file's own name of a mapped tensor, for messages.
void fill_generator(Generator& g, TensorMap named, const std::string& what,
                    const std::map<std::string, std::string>& origin = {}) {
  auto shown = [&](const std::string& name) {
    auto it = origin.find(name);
    return it == origin.end() ? "'" + name + "'" : "'" + it->second + "' (ctxenc's " + name + ")";
  };
  torch::NoGradGuard no_grad;
  auto assign = [&](const std::string& name, torch::Tensor& dst) {
    auto it = named.find(name);
    if (it == named.end()) throw ModelFileError(what + ": has no tensor for " + shown(name));
    if (it->second.sizes() != dst.sizes())
      throw ModelFileError(what + ": " + shown(name) + " is " + shape_str(it->second.sizes()) +
                           ", the architecture needs " + shape_str(dst.sizes()));
    if (!it->second.is_floating_point() && dst.is_floating_point())
      throw ModelFileError(what + ": " + shown(name) + " is not a floating-point tensor");
    dst.copy_(it->second.to(dst.dtype()));
    named.erase(it);
  };
  for (auto& p : g->named_parameters(/*recurse=*/true)) assign(p.key(), p.value());
  for (auto& b : g->named_buffers(/*recurse=*/true)) assign(b.key(), b.value());
  if (!named.empty()) throw ModelFileError(what + ": holds '" + named.begin()->first + "', which the architecture has no place for");
  g->eval();
}

// The public _netG layout -> ctxenc names and a config read from its shapes.
// main_encode: Conv(nc, nef) LReLU, then [Conv BN LReLU] per down layer, the
// last a 4x4 conv to the nBottleneck vector; main_decode: ConvT(nBottleneck,
// ngf*8, 4) BN ReLU, then [ConvT BN ReLU] ... ConvT(ngf, nc) Tanh.
struct MappedWeights {
  ModelConfig config;
  TensorMap named;                            // ctxenc name -> tensor
  std::map<std::string, std::string> origin;  // ctxenc name -> the file's name
};
MappedWeights map_netg(const TensorMap& sd, const std::string& what) {
  std::map<int, std::string> enc, dec;  // Sequential index -> "main_encode.i"
  for (const auto& [name, v] : sd) {
    for (const char* seq : {"main_encode.", "main_decode."}) {
      if (name.rfind(seq, 0) != 0) continue;
      const std::string rest = name.substr(std::strlen(seq));
      const size_t dot = rest.find('.');
      const std::string idx = rest.substr(0, dot);
      if (dot == std::string::npos || idx.empty() || idx.find_first_not_of("0123456789") != std::string::npos || idx.size() > 3)
        throw ModelFileError(what + ": '" + name + "' is not a _netG tensor name");
      (seq[5] == 'e' ? enc : dec)[std::stoi(idx)] = std::string(seq) + idx;
    }
    if (name.rfind("main_encode.", 0) != 0 && name.rfind("main_decode.", 0) != 0)
      throw ModelFileError(what + ": '" + name + "' is not part of the _netG layout (main_encode / main_decode)");
  }
  auto get = [&](const std::string& name) -> const torch::Tensor& {
    auto it = sd.find(name);
    if (it == sd.end()) throw ModelFileError(what + ": _netG layout needs '" + name + "'");
    return it->second;
  };
  auto is_conv = [&](const std::string& m) { return sd.count(m + ".weight") && sd.at(m + ".weight").dim() == 4; };
  std::vector<std::string> enc_convs, dec_convs;
  for (const auto& [i, m] : enc)
    if (is_conv(m)) enc_convs.push_back(m);
  for (const auto& [i, m] : dec)
    if (is_conv(m)) dec_convs.push_back(m);
  if (enc_convs.size() < 3 || dec_convs.size() < 2) throw ModelFileError(what + ": too few layers for the _netG layout");
  // The BatchNorm after a conv: the next module of the Sequential.
  auto bn_after = [&](const std::string& conv) {
    const size_t dot = conv.rfind('.');
    return conv.substr(0, dot + 1) + std::to_string(std::stoi(conv.substr(dot + 1)) + 1);
  };

  const torch::Tensor& first = get(enc_convs.front() + ".weight");      // [nef, nc, 4, 4]
  const torch::Tensor& bott = get(enc_convs.back() + ".weight");        // [nb, nef*8, 4, 4]
  const torch::Tensor& unbott = get(dec_convs.front() + ".weight");     // [nb, ngf*8, 4, 4]
  ModelConfig cfg;
  cfg.channels = static_cast<int>(first.size(1));
  cfg.nef = static_cast<int>(first.size(0));
  cfg.nbottleneck = static_cast<int>(bott.size(0));
  cfg.ngf = static_cast<int>(unbott.size(1) / 8);
  cfg.bottleneck = Bottleneck::Dense;
  cfg.upsampling = Upsampling::Transposed;
  const int num_down = static_cast<int>(enc_convs.size()) - 1;
  cfg.image_size = 4 << num_down;
  const int out_side = 4 << (dec_convs.size() - 1);
  if (out_side * 2 == cfg.image_size) cfg.output = OutputRegion::Center;
  else if (out_side == cfg.image_size) cfg.output = OutputRegion::Full;
  else
    throw ModelFileError(what + ": a " + std::to_string(cfg.image_size) + " px encoder with a " +
                         std::to_string(out_side) + " px decoder is neither a center nor a full-image generator");
  if (unbott.size(1) % 8 || unbott.size(0) != bott.size(0))
    throw ModelFileError(what + ": the bottleneck layers do not match (" + shape_str(bott.sizes()) + ", " +
                         shape_str(unbott.sizes()) + ")");
  try {
    cfg.validate();
  } catch (const UsageError& e) {
    throw ModelFileError(what + ": its shapes give an impossible model: " + e.what());
  }

  MappedWeights out{cfg, {}, {}};
  std::set<std::string> used;
  auto take = [&](const std::string& from, const std::string& to, torch::Tensor v) {
    out.named[to] = std::move(v);
    out.origin[to] = from;
    used.insert(from);
  };
  auto take_bn = [&](const std::string& module, const std::string& to) {
    for (const char* f : {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"})
      take(module + "." + f, to + "." + f, get(module + "." + f));
  };
  for (int k = 0; k < num_down; ++k) {
    take(enc_convs[k] + ".weight", "encoder." + std::to_string(k) + ".conv.weight", get(enc_convs[k] + ".weight"));
    if (k > 0) take_bn(bn_after(enc_convs[k]), "encoder." + std::to_string(k) + ".bn");
  }
  const int64_t nb = bott.size(0);
  take(enc_convs.back() + ".weight", "bottleneck.encode_weight", bott.reshape({nb, -1}).t().contiguous());
  take_bn(bn_after(enc_convs.back()), "bottleneck.bn_code");
  take(dec_convs.front() + ".weight", "bottleneck.decode_weight", unbott.reshape({nb, -1}).contiguous());
  take_bn(bn_after(dec_convs.front()), "bottleneck.bn_out");
  for (size_t j = 1; j < dec_convs.size(); ++j) {
    const std::string to = "decoder." + std::to_string(j - 1);
    take(dec_convs[j] + ".weight", to + ".conv.weight", get(dec_convs[j] + ".weight"));
    if (j + 1 < dec_convs.size()) take_bn(bn_after(dec_convs[j]), to + ".bn");
  }
  for (const auto& [name, v] : sd)
    if (!used.count(name))
      throw ModelFileError(what + ": '" + name + "' has no place in the _netG layout (a bias? ctxenc's convs have none)");
  return out;
}

}  // namespace

void export_torch_state_dict(const std::string& model, const std::string& out) {
  LoadedGenerator g = load_generator(model);
  std::vector<PickleTensorOut> meta;
  std::vector<torch::Tensor> data;
  auto add = [&](const std::string& name, const torch::Tensor& t) {
    torch::Tensor v = t.detach().contiguous();  // NCHW order
    if (v.is_floating_point()) v = v.to(torch::kFloat32).contiguous();
    meta.push_back({name, v.is_floating_point() ? "float32" : "int64", v.sizes().vec()});
    data.push_back(v.to(v.is_floating_point() ? torch::kFloat32 : torch::kInt64).contiguous());
  };
  // PyTorch's state_dict order: each module's parameters, its buffers, then its children.
  std::function<void(const torch::nn::Module&, const std::string&)> walk = [&](const torch::nn::Module& m,
                                                                               const std::string& prefix) {
    for (const auto& p : m.named_parameters(/*recurse=*/false)) add(prefix + p.key(), p.value());
    for (const auto& b : m.named_buffers(/*recurse=*/false)) add(prefix + b.key(), b.value());
    for (const auto& c : m.named_children()) walk(*c.value(), prefix + c.key() + ".");
  };
  walk(*g.generator, "");
  const std::string pickle = write_state_dict_pickle(meta);
  std::string bytes;
  {
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* buf, size_t n) -> size_t {
      bytes.append(static_cast<const char*>(buf), n);
      return n;
    });
    writer.writeRecord("data.pkl", pickle.data(), pickle.size());
    for (size_t k = 0; k < data.size(); ++k)
      writer.writeRecord("data/" + std::to_string(k), data[k].data_ptr(),
                         static_cast<size_t>(data[k].numel()) * data[k].element_size());
    writer.writeEndOfFile();
  }
  write_file_atomic(out, bytes);
}

void import_torch_state_dict(const std::string& pt, const std::string& out, const TorchImportOptions& opt) {
  const std::string what = "'" + pt + "'";
  TensorMap sd = read_state_dict(pt);
  ModelConfig cfg;
  TensorMap named;
  std::map<std::string, std::string> origin;
  nlohmann::json extra = {{"imported_from", pt}};
  if (opt.layout == "netG") {
    MappedWeights m = map_netg(sd, what);
    cfg = m.config;
    named = std::move(m.named);
    origin = std::move(m.origin);
    extra["layout"] = "netG";
  } else if (opt.layout == "ctxenc") {
    if (opt.config_from.empty() == opt.config_json.empty())
      throw UsageError("layout \"ctxenc\" needs the architecture: exactly one of config_from (a model file) or config_json");
    if (!opt.config_from.empty()) {
      LoadedGenerator like = load_generator(opt.config_from);
      cfg = like.config;
      if (like.header.contains("train")) extra["train"] = like.header["train"];
    } else {
      cfg = config_from_json<ModelConfig>(parse_json(opt.config_json, kExitUsage, "config_json"), kExitUsage,
                                          "config_json");
      cfg.validate();
    }
    named = std::move(sd);
    extra["layout"] = "ctxenc";
  } else {
    throw UsageError("unknown layout '" + opt.layout + "' (netG | ctxenc)");
  }
  Generator g(cfg);
  fill_generator(g, std::move(named), what, origin);
  save_model_file(out, g, /*step=*/0, extra);
}

}  // namespace ctxenc
