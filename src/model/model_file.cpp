// model_file.cpp — checked (de)serialisation of modules and optimizers, and
// generator model files: loading, writing, describing.
#include "model/model_file.h"

#include <set>
#include <sstream>

#include "ctxenc/errors.h"
#include "ctxenc/model_info.h"
#include "ctxenc/version.h"
#include "io/container.h"
#include "io/torch_archive.h"

namespace ctxenc {

std::string shape_str(at::IntArrayRef s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

namespace {

// Every named parameter and buffer of a module, with a flag for buffers.
std::vector<std::tuple<std::string, torch::Tensor, bool>> named_tensors(const torch::nn::Module& m) {
  std::vector<std::tuple<std::string, torch::Tensor, bool>> out;
  for (const auto& p : m.named_parameters(/*recurse=*/true)) out.emplace_back(p.key(), p.value(), false);
  for (const auto& b : m.named_buffers(/*recurse=*/true)) out.emplace_back(b.key(), b.value(), true);
  return out;
}

}  // namespace

std::string module_to_bytes(const torch::nn::Module& m, torch::Dtype store) {
  torch::serialize::OutputArchive archive;
  for (auto& [name, t, is_buffer] : named_tensors(m)) {
    auto v = t.detach().contiguous();
    if (v.is_floating_point()) v = v.to(store);
    archive.write(name, v, is_buffer);
  }
  std::ostringstream ss;
  archive.save_to(ss);
  return ss.str();
}

void module_from_bytes(torch::nn::Module& m, std::string_view bytes, const std::string& what) {
  check_torch_archive(bytes, what);
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(bytes.data(), bytes.size());
  } catch (const c10::Error&) {
    throw ModelFileError(what + ": tensor archive is corrupt");
  }
  auto expected = named_tensors(m);
  std::set<std::string> names;
  torch::NoGradGuard no_grad;
  for (auto& [name, t, is_buffer] : expected) {
    names.insert(name);
    torch::Tensor v;
    bool found = false;
    try {
      found = archive.try_read(name, v, is_buffer);
    } catch (const c10::Error&) {
      found = false;
    }
    if (!found) throw ModelFileError(what + ": tensor '" + name + "' is missing");
    if (v.sizes() != t.sizes())
      throw ModelFileError(what + ": tensor '" + name + "' has shape " + shape_str(v.sizes()) +
                           " but the stored config implies " + shape_str(t.sizes()));
    t.set_data(v.to(t.dtype()));  // take over the loaded storage: no second copy
  }
  for (const auto& k : archive.keys())
    if (!names.count(k)) throw ModelFileError(what + ": unexpected tensor '" + k + "' (config mismatch)");
}

std::string optimizer_to_bytes(torch::optim::Optimizer& opt) {
  torch::serialize::OutputArchive archive;
  opt.save(archive);
  std::ostringstream ss;
  archive.save_to(ss);
  return ss.str();
}

void optimizer_from_bytes(torch::optim::Optimizer& opt, std::string_view bytes, const std::string& what) {
  check_torch_archive(bytes, what);
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes.data(), bytes.size());
    opt.load(archive);
  } catch (const c10::Error& e) {
    throw ModelFileError(what + ": optimizer state does not load (" +
                         std::string(e.what_without_backtrace()).substr(0, 120) + ")");
  }
}

ModelConfig stored_model_config(const nlohmann::json& header, const std::string& path) {
  if (!header.contains("model")) throw ModelFileError("'" + path + "' holds no model config");
  ModelConfig c = config_from_json<ModelConfig>(header.at("model"), kExitModel,
                                                "'" + path + "' has an unreadable model config");
  try {
    c.validate();
  } catch (const UsageError& e) {
    throw ModelFileError("'" + path + "' has an invalid model config: " + e.what());
  }
  return c;
}

TrainConfig stored_train_config(const nlohmann::json& header, const std::string& path) {
  if (!header.contains("train")) throw ModelFileError("'" + path + "' holds no training config");
  return config_from_json<TrainConfig>(header.at("train"), kExitModel,
                                       "'" + path + "' has an unreadable training config");
}

void require_weights_fit(const ModelConfig& cfg, std::string_view generator_bytes, const std::string& path) {
  // 2 bytes a weight at the least (bf16): a header that declares a far larger
  // network than its weights is refused before anything is allocated.
  const int64_t params = generator_parameter_count(cfg);
  if (params > static_cast<int64_t>(generator_bytes.size() / 2))
    throw ModelFileError("'" + path + "' declares a generator of " + std::to_string(params) +
                         " parameters but holds " + std::to_string(generator_bytes.size()) + " bytes of weights");
}

static LoadedGenerator generator_from_container(ContainerView file, const std::string& path) {
  LoadedGenerator out;
  out.config = stored_model_config(file.header, path);
  try {
    out.step = file.header.value("step", int64_t{0});
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError("'" + path + "' has an unreadable step");
  }
  // A checkpoint with a weight average ships (and so infers with) the average.
  auto it = file.sections.find("generator_ema");
  if (it == file.sections.end()) it = file.sections.find("generator");
  if (it == file.sections.end()) throw ModelFileError("'" + path + "' holds no generator");
  require_weights_fit(out.config, it->second, path);
  out.generator = Generator(out.config);
  module_from_bytes(*out.generator, it->second, "'" + path + "'");
  out.generator->eval();
  out.header = std::move(file.header);
  return out;
}

LoadedGenerator load_generator(const std::string& name) {
  const std::string path = resolve_model_path(name);
  return generator_from_container(read_container(path), path);
}

void save_model_file(const std::string& path, const Generator& g, int64_t step,
                     const nlohmann::json& extra_header, torch::Dtype store) {
  ContainerFile file;
  file.header = extra_header;
  file.header["kind"] = "model";
  file.header["model"] = g->cfg;
  file.header["step"] = step;
  file.header["dtype"] = store == torch::kBFloat16 ? "bf16" : "fp32";
  file.sections["generator"] = module_to_bytes(*g, store);
  write_container(path, file);
}

nlohmann::json describe_model_file(const std::string& name) {
  const std::string path = resolve_model_path(name);
  ContainerView file = read_container(path);
  const bool has_discriminator = file.sections.count("discriminator") > 0;
  LoadedGenerator g = generator_from_container(std::move(file), path);
  nlohmann::json j;
  j["file"] = path;
  j["kind"] = g.header.value("kind", "unknown");
  j["step"] = g.step;
  j["model"] = g.config;
  j["generator_parameters"] = count_parameters(*g.generator);
  if (has_discriminator) {
    Discriminator d(g.config);
    j["discriminator_parameters"] = count_parameters(*d);
  }
  if (g.header.contains("train")) j["train"] = g.header["train"];
  if (g.header.contains("dtype")) j["dtype"] = g.header["dtype"];
  return j;
}

}  // namespace ctxenc
