// test_torch_archive.cpp — the gate before libtorch reads a tensor archive:
// what ctxenc writes passes; code, foreign entries, compressed tensors, zip
// bombs and broken lengths are refused.
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <utility>
#include <vector>

#include "ctxenc/errors.h"
#include "io/torch_archive.h"
#include "model/model_file.h"
#include "model/networks.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;

namespace {

void put(std::string& s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// A zip of stored entries, as a hand-made archive would be.
std::string stored_zip(const std::vector<std::pair<std::string, std::string>>& entries, uint64_t claim_size = 0) {
  std::string out, dir;
  for (const auto& [name, data] : entries) {
    const uint64_t local = out.size();
    const uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(data.data()),
                                                     static_cast<uInt>(data.size())));
    const uint64_t size = claim_size ? claim_size : data.size();
    put(out, 0x04034b50, 4), put(out, 20, 2), put(out, 0, 2), put(out, 0, 2), put(out, 0, 4), put(out, crc, 4);
    put(out, size, 4), put(out, size, 4), put(out, name.size(), 2), put(out, 0, 2);
    out += name + data;
    put(dir, 0x02014b50, 4), put(dir, 20, 2), put(dir, 20, 2), put(dir, 0, 2), put(dir, 0, 2), put(dir, 0, 4);
    put(dir, crc, 4), put(dir, size, 4), put(dir, size, 4), put(dir, name.size(), 2), put(dir, 0, 2);
    put(dir, 0, 2), put(dir, 0, 2), put(dir, 0, 2), put(dir, 0, 4), put(dir, local, 4);
    dir += name;
  }
  const uint64_t dir_at = out.size();
  out += dir;
  put(out, 0x06054b50, 4), put(out, 0, 2), put(out, 0, 2), put(out, entries.size(), 2), put(out, entries.size(), 2);
  put(out, dir.size(), 4), put(out, dir_at, 4), put(out, 0, 2);
  return out;
}

std::string refusal(const std::string& zip) {
  try {
    check_torch_archive(zip, "'f.ctxm'");
  } catch (const ModelFileError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(TorchArchive, WhatCtxencWritesPasses) {
  Generator g(tiny_model(32));
  Discriminator d(tiny_model(32));
  for (const std::string& bytes : {module_to_bytes(*g), module_to_bytes(*d), module_to_bytes(*g, torch::kBFloat16)})
    EXPECT_NO_THROW(check_torch_archive(bytes, "'f.ctxm'"));
  const std::string decl = "class Module(Module):\n  __parameters__ = [\"w\", ]\n  __buffers__ = []\n"
                           "  __annotations__ = []\n  __annotations__[\"w\"] = Tensor\n  step : int\n";
  EXPECT_EQ(refusal(stored_zip({{"archive/data.pkl", "x"}, {"archive/code/__torch__.py", decl},
                                {"archive/data/0", "1234"}})),
            "");
}

TEST(TorchArchive, CodeForeignEntriesAndBrokenLengthsAreRefused) {
  const std::string code = "class Module(Module):\n  __parameters__ = []\n"
                           "  def __setstate__(self, state: int):\n    return None\n";
  EXPECT_NE(refusal(stored_zip({{"archive/data.pkl", "x"}, {"archive/code/__torch__.py", code}})).find("holds code"),
            std::string::npos);
  const std::string call = "class Module(Module):\n  step : int\ntorch.ops.aten.foo(1)\n";
  EXPECT_NE(refusal(stored_zip({{"archive/code/__torch__.py", call}})).find("holds code"), std::string::npos);
  EXPECT_NE(refusal(stored_zip({{"archive/data.pkl", "x"}, {"archive/lib/evil.so", "ELF"}})).find("unexpected entry"),
            std::string::npos);
  EXPECT_NE(refusal(stored_zip({{"a/data.pkl", "x"}, {"b/data.pkl", "x"}})).find("unexpected entry"), std::string::npos);
  EXPECT_NE(refusal(stored_zip({{"archive/data/0", "1234"}}, /*claim_size=*/1u << 30)).find("truncated"),
            std::string::npos);
  EXPECT_NE(refusal("not a zip at all, just some bytes").find("not a zip"), std::string::npos);
  // Every cut of a real archive is refused or passes, never reads past the end.
  const std::string real = module_to_bytes(*Generator(tiny_model(32)));
  for (size_t n = 0; n < real.size(); n += 97) {
    const std::string cut = real.substr(0, n);
    EXPECT_FALSE(refusal(cut).empty()) << n;
  }
}
