// checkpoint.cpp — container format, checked module/optimizer (de)serialisation,
// generator model files.
#include "ctxenc/checkpoint.h"

#include <array>
#include <cstring>
#include <sstream>

#include "ctxenc/batchnorm_recalibration.h"
#include "ctxenc/errors.h"
#include "ctxenc/model_info.h"

namespace ctxenc {
namespace {

constexpr char kMagic[8] = {'C', 'T', 'X', 'E', 'N', 'C', '\0', '\x1a'};
constexpr uint64_t kMaxHeader = 16 << 20;

uint32_t crc32(std::string_view s) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : s) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(v));
}
template <typename T>
T get(std::string_view in, size_t& pos, const std::string& path) {
  if (pos + sizeof(T) > in.size()) throw ModelFileError("'" + path + "' is truncated (header cut short)");
  T v;
  std::memcpy(&v, in.data() + pos, sizeof(T));
  pos += sizeof(T);
  return v;
}

std::string shape_str(at::IntArrayRef s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// Every named parameter and buffer of a module, with a flag for buffers.
std::vector<std::tuple<std::string, torch::Tensor, bool>> named_tensors(const torch::nn::Module& m) {
  std::vector<std::tuple<std::string, torch::Tensor, bool>> out;
  for (const auto& p : m.named_parameters(/*recurse=*/true)) out.emplace_back(p.key(), p.value(), false);
  for (const auto& b : m.named_buffers(/*recurse=*/true)) out.emplace_back(b.key(), b.value(), true);
  return out;
}

}  // namespace

void write_container(const std::string& path, const ContainerFile& file) {
  nlohmann::json header = file.header;
  header["sections"] = nlohmann::json::array();
  for (const auto& [name, bytes] : file.sections)
    header["sections"].push_back({{"name", name}, {"size", bytes.size()}, {"crc32", crc32(bytes)}});
  const std::string h = header.dump();
  std::string out(kMagic, sizeof(kMagic));
  put<uint32_t>(out, kFormatVersion);
  put<uint64_t>(out, h.size());
  out += h;
  for (const auto& [name, bytes] : file.sections) out += bytes;
  write_file_atomic(path, out);
}

ContainerView read_container(const std::string& path) {
  auto owned = std::make_shared<std::string>();
  try {
    *owned = read_file(path, kExitModel);
  } catch (const Error& e) {
    throw ModelFileError(e.what());
  }
  const std::string_view data(*owned);
  if (data.size() < sizeof(kMagic) || std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0)
    throw ModelFileError("'" + path + "' is not a ctxenc model or checkpoint (bad magic number)");
  size_t pos = sizeof(kMagic);
  const auto version = get<uint32_t>(data, pos, path);
  if (version > kFormatVersion)
    throw ModelFileError("'" + path + "' has format version " + std::to_string(version) +
                         "; this ctxenc reads up to " + std::to_string(kFormatVersion));
  const auto hlen = get<uint64_t>(data, pos, path);
  if (hlen > kMaxHeader || pos + hlen > data.size())
    throw ModelFileError("'" + path + "' is truncated or corrupt (header length out of range)");
  ContainerView file;
  try {
    file.header = nlohmann::json::parse(data.substr(pos, hlen));
  } catch (const nlohmann::json::exception&) {
    throw ModelFileError("'" + path + "' has a corrupt header");
  }
  pos += hlen;
  try {
    for (const auto& s : file.header.at("sections")) {
      const std::string name = s.at("name");
      const uint64_t size = s.at("size");
      if (pos + size > data.size())
        throw ModelFileError("'" + path + "' is truncated (section '" + name + "' is cut short)");
      const std::string_view bytes = data.substr(pos, size);
      pos += size;
      if (crc32(bytes) != s.at("crc32").get<uint32_t>())
        throw ModelFileError("'" + path + "' is corrupt (checksum mismatch in section '" + name + "')");
      file.sections.emplace(name, bytes);
    }
  } catch (const nlohmann::json::exception&) {
    throw ModelFileError("'" + path + "' has a malformed section table");
  }
  if (pos != data.size()) throw ModelFileError("'" + path + "' has trailing bytes (corrupt file)");
  file.header.erase("sections");
  file.data = std::move(owned);
  return file;
}

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
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes.data(), bytes.size());
    opt.load(archive);
  } catch (const c10::Error& e) {
    throw ModelFileError(what + ": optimizer state does not load (" +
                         std::string(e.what_without_backtrace()).substr(0, 120) + ")");
  }
}

static LoadedGenerator generator_from_container(ContainerView file, const std::string& path) {
  LoadedGenerator out;
  try {
    out.config = file.header.at("model").get<ModelConfig>();
    out.step = file.header.value("step", int64_t{0});
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError("'" + path + "' has an unreadable model config: " + e.what());
  } catch (const UsageError& e) {
    throw ModelFileError("'" + path + "' has an invalid model config: " + e.what());
  }
  try {
    out.config.validate();
  } catch (const UsageError& e) {
    throw ModelFileError("'" + path + "' has an invalid model config: " + e.what());
  }
  // A checkpoint with a weight average ships (and so infers with) the average.
  auto it = file.sections.find("generator_ema");
  if (it == file.sections.end()) it = file.sections.find("generator");
  if (it == file.sections.end()) throw ModelFileError("'" + path + "' holds no generator");
  out.generator = Generator(out.config);
  module_from_bytes(*out.generator, it->second, "'" + path + "'");
  out.generator->eval();
  out.header = std::move(file.header);
  return out;
}

LoadedGenerator load_generator(const std::string& path) {
  return generator_from_container(read_container(path), path);
}

// With r.data set: re-measures g's BatchNorm statistics on crops framed as
// its training config says (or as r overrides) and records how in `extra`.
static void maybe_recalibrate(LoadedGenerator& g, const BatchNormRecalibration& r, nlohmann::json& extra) {
  if (r.data.empty()) return;
  TrainConfig tc;
  if (g.header.contains("train")) {
    try {
      tc = g.header.at("train").get<TrainConfig>();
    } catch (const std::exception& e) {
      throw ModelFileError(std::string("the model's training config is unreadable: ") + e.what());
    }
  }
  set_threads(r.threads);
  recalibrate_batch_norm(g.generator, tc.data, tc.mask, r);
  extra["batchnorm_recalibrated"] = {{"data", r.data},
                                     {"batches", r.batches},
                                     {"batch_size", r.batch_size},
                                     {"frame", r.frame.empty() ? to_string(tc.data.frame) : r.frame},
                                     {"seed", r.seed}};
}

void export_model(const std::string& checkpoint, const std::string& out, bool bf16,
                  const BatchNormRecalibration& recalibration) {
  LoadedGenerator g = load_generator(checkpoint);
  nlohmann::json extra;
  if (g.header.contains("train")) extra["train"] = g.header["train"];
  extra["exported_from"] = checkpoint;
  maybe_recalibrate(g, recalibration, extra);
  save_model_file(out, g.generator, g.step, extra, bf16 ? torch::kBFloat16 : torch::kFloat32);
}

void export_average(const std::vector<std::string>& inputs, const std::string& out, bool bf16,
                    const BatchNormRecalibration& recalibration) {
  if (inputs.size() < 2) throw UsageError("averaging needs at least two model files");
  LoadedGenerator sum = load_generator(inputs.front());
  const nlohmann::json arch = sum.config;
  torch::NoGradGuard no_grad;
  auto params = sum.generator->parameters();
  auto buffers = sum.generator->buffers();
  LoadedGenerator last;
  for (size_t k = 1; k < inputs.size(); ++k) {
    last = load_generator(inputs[k]);
    if (nlohmann::json(last.config) != arch)
      throw ModelFileError("cannot average '" + inputs[k] + "' with '" + inputs.front() +
                           "': the architectures differ");
    auto p = last.generator->parameters();
    auto b = last.generator->buffers();
    for (size_t i = 0; i < params.size(); ++i) params[i].add_(p[i].to(params[i].dtype()));
    for (size_t i = 0; i < buffers.size(); ++i)
      if (buffers[i].is_floating_point()) buffers[i].add_(b[i].to(buffers[i].dtype()));
  }
  const double n = static_cast<double>(inputs.size());
  for (auto& p : params) p.div_(n);
  for (auto& b : buffers)
    if (b.is_floating_point()) b.div_(n);
  nlohmann::json extra;
  if (last.header.contains("train")) extra["train"] = last.header["train"];
  extra["averaged_from"] = inputs;
  sum.header = last.header;  // the recalibration frames crops as the last input was trained
  maybe_recalibrate(sum, recalibration, extra);
  save_model_file(out, sum.generator, last.step, extra, bf16 ? torch::kBFloat16 : torch::kFloat32);
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

nlohmann::json describe_model_file(const std::string& path) {
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
