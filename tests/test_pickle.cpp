// test_pickle.cpp — the restricted pickle reader (io/pickle.h): what
// torch.save writes for a state_dict is read; globals other than tensors and
// containers, calls, object state, cycles, deep nesting, truncation and
// tensors reaching past their storage are refused with ModelFileError.
#include <gtest/gtest.h>

#include <string>

#include "ctxenc/errors.h"
#include "io/pickle.h"

using namespace ctxenc;
using namespace std::string_literals;

namespace {

std::string u32(uint32_t v) {
  std::string s;
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return s;
}
std::string str(const std::string& s) { return "X" + u32(static_cast<uint32_t>(s.size())) + s; }
std::string i32(int32_t v) { return "J" + u32(static_cast<uint32_t>(v)); }

// A tensor over storage `key` of `numel` floats: offset, size and stride given.
std::string tensor(const std::string& key, int numel, int offset, const std::vector<int>& size,
                   const std::vector<int>& stride) {
  std::string p = "ctorch._utils\n_rebuild_tensor_v2\n((" + str("storage") + "ctorch\nFloatStorage\n" + str(key) +
                  str("cpu") + i32(numel) + "tQ" + i32(offset) + "(";
  for (int s : size) p += i32(s);
  p += "t(";
  for (int s : stride) p += i32(s);
  p += "t\x89" "ccollections\nOrderedDict\n)RtR";
  return p;
}

std::string refusal(const std::string& pickle) {
  try {
    PickleDocument doc = parse_pickle(pickle, "'t.pt'");
    state_dict_entries(doc, "'t.pt'");
  } catch (const ModelFileError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Pickle, ReadsWhatItWrites) {
  const std::string p = write_state_dict_pickle({{"a.weight", "float32", {2, 3}}, {"a.n", "int64", {}}});
  PickleDocument doc = parse_pickle(p, "w");
  auto e = state_dict_entries(doc, "w");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].first, "a.weight");
  EXPECT_EQ(e[0].second->dtype, "float32");
  EXPECT_EQ(e[0].second->size, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(e[0].second->stride, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(e[0].second->storage_numel, 6);
  EXPECT_EQ(e[0].second->storage_key, "0");
  EXPECT_EQ(e[1].second->dtype, "int64");
  EXPECT_EQ(e[1].second->storage_key, "1");
  EXPECT_TRUE(e[1].second->size.empty());
}

TEST(Pickle, TrainingScriptDictWithMemo) {
  // {"epoch": 3, "state_dict": OrderedDict(w=tensor)} with memo puts and gets, BUILD of _metadata.
  const std::string p = "\x80\x02}q\x00("s + str("epoch") + "K\x03" + str("state_dict") +
                        "ccollections\nOrderedDict\nq\x01)Rq\x02" + str("w") + tensor("0", 4, 0, {2, 2}, {2, 1}) +
                        "s}" + str("_metadata") + "h\x01)Rsb" + "u.";
  PickleDocument doc = parse_pickle(p, "t");
  auto e = state_dict_entries(doc, "t");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].first, "w");
}

TEST(Pickle, RefusesCode) {
  EXPECT_NE(refusal("\x80\x02" "cposix\nsystem\n(" + str("touch x") + "tR."), "");
  EXPECT_NE(refusal("\x80\x02" "cposix\nsystem\n").find("'posix.system'"), std::string::npos);
  EXPECT_NE(refusal("\x80\x02" "cbuiltins\neval\n"), "");
  // STACK_GLOBAL spelled from strings, INST, OBJ, NEWOBJ, EXT1, text GET.
  EXPECT_NE(refusal("\x80\x04" + std::string("\x8c\x02os\x8c\x06system\x93")), "");
  EXPECT_NE(refusal("ios\nsystem\n."), "");
  EXPECT_NE(refusal("(o."), "");
  EXPECT_NE(refusal("ccollections\nOrderedDict\n)\x81."), "");
  EXPECT_NE(refusal("\x82\x01."), "");
  EXPECT_NE(refusal("g0\n."), "");
  // The allowed callables only with their own arguments: OrderedDict(items), BUILD on a tensor.
  EXPECT_NE(refusal("ccollections\nOrderedDict\n(]tR."), "");
  EXPECT_NE(refusal("}" + str("w") + tensor("0", 4, 0, {4}, {1}) + "}b" + "s."), "");
}

TEST(Pickle, RefusesBadTensors) {
  auto sd = [](const std::string& t) { return "}" + str("w") + t + "s."; };
  EXPECT_EQ(refusal(sd(tensor("0", 4, 0, {2, 2}, {2, 1}))), "");
  EXPECT_NE(refusal(sd(tensor("0", 4, 1, {2, 2}, {2, 1}))).find("past the end"), std::string::npos);
  EXPECT_NE(refusal(sd(tensor("0", 4, 0, {2, 3}, {2, 1}))), "");
  EXPECT_NE(refusal(sd(tensor("0", 4, 0, {2, 2}, {1}))), "");       // size and stride lengths differ
  EXPECT_NE(refusal(sd(tensor("0", 4, 0, {-1}, {1}))), "");         // negative size
  EXPECT_NE(refusal(sd(tensor("../x", 4, 0, {4}, {1}))), "");       // a storage name that is a path
  EXPECT_NE(refusal(sd(tensor("0", 4, 5, {0}, {1}))), "");          // offset past the storage
  EXPECT_EQ(refusal(sd(tensor("0", 0, 0, {0, 3}, {3, 1}))), "");    // empty tensors are fine
}

TEST(Pickle, RefusesCyclesDepthAndTruncation) {
  // A dict that holds itself.
  EXPECT_NE(refusal("}q\x00"s + str("self") + "h\x00s."s), "");
  // 200 nested dicts.
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "}" + str("k");
  deep += "}";
  for (int i = 0; i < 200; ++i) deep += "s";
  EXPECT_NE(refusal(deep + ".").find("deeper"), std::string::npos);
  // A million MARKs is fine for the parser's own stack (no recursion), then refused as unbalanced.
  EXPECT_NE(refusal(std::string(1'000'100, '(')), "");
  // Truncated anywhere.
  const std::string good = write_state_dict_pickle({{"w", "float32", {3}}});
  for (size_t n = 0; n < good.size(); ++n) EXPECT_NE(refusal(good.substr(0, n)), "") << n;
  EXPECT_NE(refusal("X\xff\xff\xff\x7f" "abc"), "");  // a length past the end
  // Not a dict of tensors.
  EXPECT_NE(refusal("]."), "");
  EXPECT_NE(refusal("}."), "");
}
