// container.cpp — the checkpoint / model file container: magic, version,
// JSON header, CRC-checked sections.
#include "io/container.h"

#include <array>
#include <cstring>

#include "ctxenc/config.h"
#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"

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
  auto owned = std::make_shared<std::string>(read_file(path, kExitModel));
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
  file.header = parse_json(std::string(data.substr(pos, hlen)), kExitModel, "'" + path + "' has a corrupt header");
  if (!file.header.is_object()) throw ModelFileError("'" + path + "' has a corrupt header (not a JSON object)");
  // The fields every reader relies on, of the type it reads them as.
  auto field_is = [&](const char* key, bool ok) {
    if (file.header.contains(key) && !ok)
      throw ModelFileError("'" + path + "' has a corrupt header (field '" + key + "' has the wrong type)");
  };
  field_is("kind", file.header.value("kind", nlohmann::json("")).is_string());
  field_is("dtype", file.header.value("dtype", nlohmann::json("")).is_string());
  field_is("step", file.header.value("step", nlohmann::json(0)).is_number_integer() &&
                       file.header.value("step", nlohmann::json(0)).get<int64_t>() >= 0);
  field_is("model", file.header.value("model", nlohmann::json::object()).is_object());
  field_is("train", file.header.value("train", nlohmann::json::object()).is_object());
  if (!file.header.contains("sections") || !file.header["sections"].is_array())
    throw ModelFileError("'" + path + "' has a malformed section table");
  pos += hlen;
  try {
    for (const auto& s : file.header.at("sections")) {
      const std::string name = s.at("name");
      const uint64_t size = s.at("size");
      if (size > data.size() - pos)
        throw ModelFileError("'" + path + "' is truncated (section '" + name + "' is cut short)");
      const std::string_view bytes = data.substr(pos, size);
      pos += size;
      if (crc32(bytes) != s.at("crc32").get<uint32_t>())
        throw ModelFileError("'" + path + "' is corrupt (checksum mismatch in section '" + name + "')");
      if (!file.sections.emplace(name, bytes).second)
        throw ModelFileError("'" + path + "' is corrupt (section '" + name + "' appears twice)");
    }
  } catch (const nlohmann::json::exception&) {
    throw ModelFileError("'" + path + "' has a malformed section table");
  }
  if (pos != data.size()) throw ModelFileError("'" + path + "' has trailing bytes (corrupt file)");
  file.header.erase("sections");
  file.data = std::move(owned);
  return file;
}


}  // namespace ctxenc
