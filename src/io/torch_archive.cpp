// torch_archive.cpp — a zip reader that checks, without trusting one byte, that
// a torch tensor archive holds only tensors and declarations (see the header).
#include "io/torch_archive.h"

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <regex>

#include "ctxenc/errors.h"

namespace ctxenc {
namespace {

constexpr uint32_t kEndOfDirectory = 0x06054b50, kZip64Locator = 0x07064b50, kZip64End = 0x06064b50;
constexpr uint32_t kDirectoryEntry = 0x02014b50, kLocalHeader = 0x04034b50;
constexpr uint64_t kMaxInflated = 16 << 20;  // code, pickles: a few kB in what ctxenc writes
constexpr uint64_t kMaxEntries = 1 << 20;

// Little-endian reads that fail instead of reading past the bytes.
struct Reader {
  std::string_view bytes;
  const std::string& what;

  [[noreturn]] void fail(const std::string& why) const { throw ModelFileError(what + ": tensor archive " + why); }
  void need(uint64_t pos, uint64_t len) const {
    if (pos > bytes.size() || len > bytes.size() - pos) fail("is truncated or corrupt (a length points past its end)");
  }
  uint64_t le(uint64_t pos, int n) const {
    need(pos, static_cast<uint64_t>(n));
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[pos + i]);
    return v;
  }
};

struct Entry {
  std::string name;
  uint16_t method = 0;
  uint64_t compressed = 0, size = 0, local = 0;
};

// The central directory's offset and entry count, from the end records (zip64 where marked).
std::pair<uint64_t, uint64_t> find_directory(const Reader& r) {
  const size_t n = r.bytes.size();
  if (n < 22) r.fail("is too short to be a zip");
  const size_t lowest = n > 22 + 65535 ? n - 22 - 65535 : 0;
  for (size_t pos = n - 22;; --pos) {
    if (r.le(pos, 4) == kEndOfDirectory) {
      uint64_t entries = r.le(pos + 10, 2), offset = r.le(pos + 16, 4);
      if ((entries == 0xFFFF || offset == 0xFFFFFFFF) && pos >= 20 && r.le(pos - 20, 4) == kZip64Locator) {
        const uint64_t end64 = r.le(pos - 20 + 8, 8);
        if (r.le(end64, 4) != kZip64End) r.fail("has a corrupt zip64 end record");
        entries = r.le(end64 + 32, 8);
        offset = r.le(end64 + 48, 8);
      }
      return {offset, entries};
    }
    if (pos == lowest) break;
  }
  r.fail("is not a zip (no end of central directory)");
}

// Reads a directory entry at pos; returns the position of the next.
uint64_t read_entry(const Reader& r, uint64_t pos, Entry& e) {
  if (r.le(pos, 4) != kDirectoryEntry) r.fail("has a corrupt central directory");
  e.method = static_cast<uint16_t>(r.le(pos + 10, 2));
  e.compressed = r.le(pos + 20, 4);
  e.size = r.le(pos + 24, 4);
  const uint64_t name_len = r.le(pos + 28, 2), extra_len = r.le(pos + 30, 2), comment_len = r.le(pos + 32, 2);
  e.local = r.le(pos + 42, 4);
  r.need(pos + 46, name_len + extra_len + comment_len);
  e.name = std::string(r.bytes.substr(pos + 46, name_len));
  // Zip64 extra field: 8-byte values for the fields saturated above, in this order.
  for (uint64_t x = pos + 46 + name_len, end = x + extra_len; x + 4 <= end;) {
    const uint64_t id = r.le(x, 2), len = r.le(x + 2, 2);
    if (x + 4 + len > end) r.fail("has a corrupt extra field");
    if (id == 1) {
      uint64_t at = x + 4;
      for (uint64_t* field : {&e.size, &e.compressed, &e.local})
        if (*field == 0xFFFFFFFF) {
          if (at + 8 > x + 4 + len) r.fail("has a corrupt zip64 field");
          *field = r.le(at, 8);
          at += 8;
        }
    }
    x += 4 + len;
  }
  return pos + 46 + name_len + extra_len + comment_len;
}

// The entry's data, after its local header, checked to lie inside the bytes.
std::string_view entry_data(const Reader& r, const Entry& e) {
  if (r.le(e.local, 4) != kLocalHeader) r.fail("has a corrupt local header for '" + e.name + "'");
  const uint64_t start = e.local + 30 + r.le(e.local + 26, 2) + r.le(e.local + 28, 2);
  r.need(start, e.compressed);
  return r.bytes.substr(start, e.compressed);
}

std::string inflate_raw(const Reader& r, const Entry& e, std::string_view data) {
  if (e.size > kMaxInflated) r.fail("entry '" + e.name + "' inflates to " + std::to_string(e.size) + " bytes");
  std::string out(e.size, '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) r.fail("cannot be inflated");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const uint64_t produced = z.total_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END || produced != e.size) r.fail("entry '" + e.name + "' does not inflate to its stated size");
  return out;
}

// TorchScript source that only declares: every line a class header, a
// __parameters__/__buffers__/__annotations__ line or a `name : Type` line.
bool only_declarations(const std::string& source) {
  static const std::regex allowed(
      R"(\s*|class [A-Za-z_][\w]*\([A-Za-z_][\w.]*\):\s*|)"
      R"(  __(parameters|buffers)__ = \[("[^"\\]*", )*\]\s*|)"
      R"(  __annotations__ = \[\]\s*|)"
      R"(  __annotations__\["[^"\\]*"\] = [\w.\[\], ]+\s*|)"
      R"(  [A-Za-z_]\w* : [\w.\[\], ]+\s*)");
  size_t start = 0;
  while (start <= source.size()) {
    size_t end = source.find('\n', start);
    if (end == std::string::npos) end = source.size();
    if (!std::regex_match(source.begin() + static_cast<long>(start), source.begin() + static_cast<long>(end), allowed))
      return false;
    start = end + 1;
  }
  return true;
}

bool allowed_name(const std::string& rest) {
  static const std::regex names(
      R"(data\.pkl|constants\.pkl|version|byteorder|\.data/version|data/\d+|code/[\w/]+\.py(\.debug_pkl)?)");
  return std::regex_match(rest, names);
}

}  // namespace

void check_torch_archive(std::string_view zip, const std::string& what) {
  const Reader r{zip, what};
  auto [pos, entries] = find_directory(r);
  if (entries == 0 || entries > kMaxEntries) r.fail("has " + std::to_string(entries) + " entries");
  std::string root;
  for (uint64_t i = 0; i < entries; ++i) {
    Entry e;
    pos = read_entry(r, pos, e);
    const size_t slash = e.name.find('/');
    if (slash == std::string::npos || slash == 0) r.fail("entry '" + e.name + "' is outside the archive's folder");
    if (root.empty()) root = e.name.substr(0, slash);
    const std::string rest = e.name.substr(slash + 1);
    if (e.name.compare(0, slash, root) != 0 || !allowed_name(rest))
      r.fail("holds an unexpected entry '" + e.name + "' (only tensors and declarations are read)");
    const std::string_view data = entry_data(r, e);
    const bool tensor = rest.compare(0, 5, "data/") == 0;
    if (e.method == 0) {
      if (e.size != e.compressed) r.fail("entry '" + e.name + "' has inconsistent sizes");
    } else if (e.method != 8 || tensor) {
      r.fail("entry '" + e.name + "' is compressed (method " + std::to_string(e.method) + ")");
    }
    if (rest.size() > 3 && rest.compare(rest.size() - 3, 3, ".py") == 0) {
      const std::string source = e.method == 0 ? std::string(data) : inflate_raw(r, e, data);
      if (!only_declarations(source)) r.fail("entry '" + e.name + "' holds code (only declarations are read)");
    } else if (e.method == 8 && e.size > kMaxInflated) {
      r.fail("entry '" + e.name + "' inflates to " + std::to_string(e.size) + " bytes");
    }
  }
}

std::map<std::string, std::string_view> torch_archive_entries(std::string_view zip, const std::string& what) {
  check_torch_archive(zip, what);
  const Reader r{zip, what};
  auto [pos, entries] = find_directory(r);
  std::map<std::string, std::string_view> out;
  for (uint64_t i = 0; i < entries; ++i) {
    Entry e;
    pos = read_entry(r, pos, e);
    const std::string rest = e.name.substr(e.name.find('/') + 1);
    if (e.method != 0) r.fail("entry '" + e.name + "' is compressed; torch.save stores every entry");
    if (!out.emplace(rest, entry_data(r, e)).second) r.fail("holds '" + e.name + "' twice");
  }
  return out;
}

}  // namespace ctxenc
