// io/pickle.cpp — the restricted pickle reader and the state_dict pickle
// writer (see the header for what is accepted). The reader is a loop over
// opcodes with explicit stacks: nothing recurses while parsing, and every
// value lives in the document's arena, so a self-referencing container can
// neither overflow the C++ stack nor leak.
#include "io/pickle.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <unordered_map>

#include "ctxenc/errors.h"

namespace ctxenc {
namespace {

struct StorageType {
  const char* global;
  const char* dtype;
  int size;
};
constexpr StorageType kStorages[] = {
    {"torch.FloatStorage", "float32", 4}, {"torch.DoubleStorage", "float64", 8}, {"torch.HalfStorage", "float16", 2},
    {"torch.BFloat16Storage", "bfloat16", 2}, {"torch.LongStorage", "int64", 8}, {"torch.IntStorage", "int32", 4},
    {"torch.ShortStorage", "int16", 2}, {"torch.CharStorage", "int8", 1}, {"torch.ByteStorage", "uint8", 1},
    {"torch.BoolStorage", "bool", 1},
};
constexpr const char* kOrderedDict = "collections.OrderedDict";
constexpr const char* kRebuildTensor = "torch._utils._rebuild_tensor_v2";
constexpr const char* kRebuildParameter = "torch._utils._rebuild_parameter";

const StorageType* storage_type(const std::string& global) {
  for (const auto& s : kStorages)
    if (global == s.global) return &s;
  return nullptr;
}

}  // namespace

int pickle_dtype_size(const std::string& dtype) {
  for (const auto& s : kStorages)
    if (dtype == s.dtype) return s.size;
  return 0;
}

// Values on the parser's stack: a PickleValue, or one of the two things that
// exist only while parsing: a global (a name) and a storage record.
class PickleParser {
 public:
  PickleParser(std::string_view bytes, const std::string& what, PickleDocument& doc)
      : in_(bytes), what_(what), doc_(doc) {}

  void run() {
    for (;;) {
      const uint8_t op = u8();
      switch (op) {
        case 0x80: u8(); break;                   // PROTO
        case 0x95: take(8); break;                // FRAME (a length hint)
        case '.': finish(); return;               // STOP
        case '(': mark(); break;                  // MARK
        case ')': push(make(PickleValue::Kind::Tuple)); break;
        case ']': push(make(PickleValue::Kind::List)); break;
        case '}': push(make(PickleValue::Kind::Dict)); break;
        case 't': push(tuple_of(pop_mark())); break;
        case 0x85: case 0x86: case 0x87: {        // TUPLE1..3
          const size_t n = op - 0x84u;
          need_stack(n);
          std::vector<Item> items(stack_.end() - static_cast<long>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          push(tuple_of(items));
          break;
        }
        case 'l': { auto items = pop_mark(); auto* l = make(PickleValue::Kind::List); for (auto& i : items) add(l, i); push(l); break; }
        case 'd': { auto items = pop_mark(); auto* d = make(PickleValue::Kind::Dict); set_items(d, items); push(d); break; }
        case 'a': { Item v = pop(); add(container(PickleValue::Kind::List, "APPEND"), v); break; }
        case 'e': { auto items = pop_mark(); auto* l = container(PickleValue::Kind::List, "APPENDS"); for (auto& i : items) add(l, i); break; }
        case 's': { Item v = pop(); Item k = pop(); set_items(container(PickleValue::Kind::Dict, "SETITEM"), {k, v}); break; }
        case 'u': { auto items = pop_mark(); set_items(container(PickleValue::Kind::Dict, "SETITEMS"), items); break; }
        case 'N': push(make(PickleValue::Kind::None)); break;
        case 0x88: case 0x89: { auto* v = make(PickleValue::Kind::Bool); v->b = op == 0x88; push(v); break; }
        case 'J': push_int(static_cast<int32_t>(le(4))); break;
        case 'K': push_int(static_cast<int64_t>(le(1))); break;
        case 'M': push_int(static_cast<int64_t>(le(2))); break;
        case 0x8a: {                              // LONG1: n-byte two's complement
          const uint64_t n = le(1);
          if (n > 8) fail("holds an integer of " + std::to_string(n) + " bytes");
          uint64_t v = n ? le(static_cast<int>(n)) : 0;
          if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);
          push_int(static_cast<int64_t>(v));
          break;
        }
        case 'G': {                               // BINFLOAT, big-endian
          uint64_t bits = 0;
          for (char c : take(8)) bits = (bits << 8) | static_cast<uint8_t>(c);
          auto* v = make(PickleValue::Kind::Float);
          std::memcpy(&v->f, &bits, 8);
          push(v);
          break;
        }
        case 'X': case 'T': push_string(PickleValue::Kind::String, le(4)); break;
        case 0x8c: case 'U': push_string(PickleValue::Kind::String, le(1)); break;
        case 0x8d: push_string(PickleValue::Kind::String, le(8)); break;
        case 'B': push_string(PickleValue::Kind::Bytes, le(4)); break;
        case 'C': push_string(PickleValue::Kind::Bytes, le(1)); break;
        case 0x8e: push_string(PickleValue::Kind::Bytes, le(8)); break;
        case 'c': {                               // GLOBAL "module\nname\n"
          const std::string module = line(), name = line();
          push_global(module + "." + name);
          break;
        }
        case 0x93: {                              // STACK_GLOBAL
          Item name = pop(), module = pop();
          if (!is(module, PickleValue::Kind::String) || !is(name, PickleValue::Kind::String))
            fail("has a STACK_GLOBAL without names");
          push_global(module.value->s + "." + name.value->s);
          break;
        }
        case 'q': memo_put(le(1)); break;
        case 'r': memo_put(le(4)); break;
        case 0x94: memo_put(memo_.size()); break;  // MEMOIZE
        case 'h': memo_get(le(1)); break;
        case 'j': memo_get(le(4)); break;
        case 'Q': persistent_id(); break;          // BINPERSID
        case 'R': reduce(); break;
        case 'b': {                               // BUILD: only an OrderedDict's attributes (_metadata), ignored
          pop();
          need_stack(1);
          if (!is(stack_.back(), PickleValue::Kind::Dict)) fail("sets the state of an object (BUILD)");
          break;
        }
        case '0': pop(); break;                   // POP
        case '2': need_stack(1); push(stack_.back()); break;  // DUP
        case '1': pop_mark(); break;              // POP_MARK
        default: {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "0x%02x", op);
          fail(std::string("uses opcode ") + hex + " ('" + (op >= 32 && op < 127 ? std::string(1, char(op)) : "?") +
               "'), which is not read (only tensors and plain containers are)");
        }
      }
    }
  }

 private:
  struct Item {
    PickleValue* value = nullptr;  // set unless global / storage
    std::string global;            // "module.name"
    bool is_storage = false;       // a persistent storage record (in value->tensor)
  };

  [[noreturn]] void fail(const std::string& why) const {
    throw ModelFileError(what_ + ": pickle " + why + " (at byte " + std::to_string(pos_) + ")");
  }
  uint64_t le(int n) {
    const std::string_view b = take(static_cast<uint64_t>(n));
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[static_cast<size_t>(i)]);
    return v;
  }
  uint8_t u8() { return static_cast<uint8_t>(take(1)[0]); }
  std::string_view take(uint64_t n) {
    if (n > in_.size() - pos_) fail("is truncated");
    const std::string_view r = in_.substr(pos_, n);
    pos_ += n;
    return r;
  }
  std::string line() {
    const size_t nl = in_.find('\n', pos_);
    if (nl == std::string_view::npos || nl - pos_ > 256) fail("has a malformed GLOBAL");
    std::string s(in_.substr(pos_, nl - pos_));
    pos_ = nl + 1;
    return s;
  }

  PickleValue* make(PickleValue::Kind k) {
    if (static_cast<int64_t>(doc_.values_.size()) >= kPickleMaxValues)
      fail("holds more than " + std::to_string(kPickleMaxValues) + " values");
    doc_.values_.push_back(std::make_unique<PickleValue>());
    doc_.values_.back()->kind = k;
    return doc_.values_.back().get();
  }
  void push(PickleValue* v) { push(Item{v, {}, false}); }
  void push(Item it) {
    if (static_cast<int64_t>(stack_.size() + marks_.size()) >= kPickleMaxStack) fail("stack is too deep");
    stack_.push_back(std::move(it));
  }
  void push_int(int64_t i) {
    auto* v = make(PickleValue::Kind::Int);
    v->i = i;
    push(v);
  }
  void push_string(PickleValue::Kind k, uint64_t n) {
    auto* v = make(k);
    v->s = std::string(take(n));
    push(v);
  }
  void push_global(const std::string& name) {
    if (name != kOrderedDict && name != kRebuildTensor && name != kRebuildParameter && !storage_type(name))
      fail("refers to '" + name + "', which is not a tensor or a plain container; only those are read");
    push(Item{nullptr, name, false});
  }
  void need_stack(size_t n) const {
    const size_t base = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() < base + n) fail("pops an empty stack");
  }
  Item pop() {
    need_stack(1);
    Item it = std::move(stack_.back());
    stack_.pop_back();
    return it;
  }
  void mark() {
    if (static_cast<int64_t>(stack_.size() + marks_.size()) >= kPickleMaxStack) fail("stack is too deep");
    marks_.push_back(stack_.size());
  }
  std::vector<Item> pop_mark() {
    if (marks_.empty()) fail("has no MARK to pop to");
    const size_t at = marks_.back();
    marks_.pop_back();
    std::vector<Item> items(std::make_move_iterator(stack_.begin() + static_cast<long>(at)),
                            std::make_move_iterator(stack_.end()));
    stack_.resize(at);
    return items;
  }
  static bool is(const Item& it, PickleValue::Kind k) { return it.value && !it.is_storage && it.value->kind == k; }

  PickleValue* tuple_of(const std::vector<Item>& items) {
    auto* t = make(PickleValue::Kind::Tuple);
    for (const auto& i : items) {
      // Tuples may hold the parse-time items (a storage record's type, a
      // tensor's storage) while they are arguments; they are kept aside.
      if (!i.value || i.is_storage) {
        args_.emplace(t, std::vector<Item>(items.begin(), items.end()));
        t->items.clear();
        return t;
      }
      t->items.push_back(i.value);
    }
    return t;
  }
  // The tuple's items including globals and storages (arguments of a call).
  std::vector<Item> tuple_items(const Item& it) {
    if (!is(it, PickleValue::Kind::Tuple)) fail("calls with arguments that are not a tuple");
    if (auto a = args_.find(it.value); a != args_.end()) return a->second;
    std::vector<Item> out;
    for (const PickleValue* v : it.value->items) out.push_back(Item{const_cast<PickleValue*>(v), {}, false});
    return out;
  }
  void check_plain(const Item& i, const char* op) const {
    if (!i.value || i.is_storage || args_.count(i.value))
      fail(std::string("puts a global or storage into a container (") + op + ")");
  }
  PickleValue* container(PickleValue::Kind k, const char* op) {
    need_stack(1);
    Item& top = stack_.back();
    if (!is(top, k)) fail(std::string(op) + " on something that is not a " + (k == PickleValue::Kind::List ? "list" : "dict"));
    return top.value;
  }
  void add(PickleValue* list, const Item& v) {
    check_plain(v, "APPEND");
    list->items.push_back(v.value);
  }
  void set_items(PickleValue* dict, const std::vector<Item>& kv) {
    if (kv.size() % 2) fail("has an odd number of dict items");
    for (size_t i = 0; i < kv.size(); i += 2) {
      check_plain(kv[i], "SETITEM");
      check_plain(kv[i + 1], "SETITEM");
      dict->items.push_back(kv[i].value);
      dict->items.push_back(kv[i + 1].value);
    }
  }
  void memo_put(uint64_t key) {
    need_stack(1);
    if (static_cast<int64_t>(memo_.size()) >= kPickleMaxStack && !memo_.count(key)) fail("memo is too large");
    memo_[key] = stack_.back();
  }
  void memo_get(uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) fail("reads memo entry " + std::to_string(key) + ", which was never stored");
    push(it->second);
  }

  void persistent_id() {
    Item pid = pop();
    std::vector<Item> f = tuple_items(pid);
    if (f.size() != 5 || !is(f[0], PickleValue::Kind::String) || f[0].value->s != "storage" || f[1].global.empty() ||
        !is(f[2], PickleValue::Kind::String) || !is(f[3], PickleValue::Kind::String) || !is(f[4], PickleValue::Kind::Int))
      fail("has a persistent id that is not a ('storage', type, key, location, numel) record");
    const StorageType* st = storage_type(f[1].global);
    if (!st) fail("has a storage of type '" + f[1].global + "'");
    const std::string& key = f[2].value->s;
    if (key.empty() || key.size() > 32 || key.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyz_") != std::string::npos)
      fail("names a storage '" + key + "' that is not a record name");
    if (f[4].value->i < 0) fail("declares a storage of negative size");
    auto* v = make(PickleValue::Kind::Tensor);
    v->tensor.storage_key = key;
    v->tensor.dtype = st->dtype;
    v->tensor.storage_numel = f[4].value->i;
    push(Item{v, {}, true});
  }

  void reduce() {
    Item args = pop(), callable = pop();
    if (callable.global.empty()) fail("calls something that is not an accepted global (REDUCE)");
    std::vector<Item> a = tuple_items(args);
    if (callable.global == kOrderedDict) {
      if (!a.empty()) fail("builds an OrderedDict from arguments");
      push(make(PickleValue::Kind::Dict));
    } else if (callable.global == kRebuildTensor) {
      push(rebuild_tensor(a));
    } else if (callable.global == kRebuildParameter) {
      if (a.size() < 1 || !is(a[0], PickleValue::Kind::Tensor)) fail("rebuilds a parameter from something not a tensor");
      push(a[0].value);
    } else {
      fail("calls '" + callable.global + "'");
    }
  }

  std::vector<int64_t> int_tuple(const Item& it, const char* field) {
    if (!is(it, PickleValue::Kind::Tuple)) fail(std::string("has a tensor ") + field + " that is not a tuple");
    if (it.value->items.size() > 8) fail(std::string("has a tensor of more than 8 dimensions"));
    std::vector<int64_t> out;
    for (const PickleValue* v : it.value->items) {
      if (v->kind != PickleValue::Kind::Int || v->i < 0)
        fail(std::string("has a tensor ") + field + " that is not a tuple of non-negative integers");
      out.push_back(v->i);
    }
    return out;
  }

  PickleValue* rebuild_tensor(const std::vector<Item>& a) {
    if (a.size() < 6 || a.size() > 7 || !a[0].is_storage || !is(a[1], PickleValue::Kind::Int))
      fail("rebuilds a tensor from unexpected arguments");
    auto* v = make(PickleValue::Kind::Tensor);
    v->tensor = a[0].value->tensor;
    v->tensor.offset = a[1].value->i;
    v->tensor.size = int_tuple(a[2], "size");
    v->tensor.stride = int_tuple(a[3], "stride");
    if (v->tensor.size.size() != v->tensor.stride.size()) fail("has a tensor whose size and stride differ in length");
    // Every element must lie inside the storage: offset + sum (size_i - 1) * stride_i < numel.
    const int64_t numel_limit = v->tensor.storage_numel;
    if (v->tensor.offset < 0 || v->tensor.offset > numel_limit) fail("has a tensor offset outside its storage");
    bool empty = false;
    __int128 last = v->tensor.offset, count = 1;
    for (size_t d = 0; d < v->tensor.size.size(); ++d) {
      if (v->tensor.size[d] == 0) empty = true;
      last += static_cast<__int128>(std::max<int64_t>(v->tensor.size[d] - 1, 0)) * v->tensor.stride[d];
      count *= v->tensor.size[d];
      if (count > (__int128{1} << 40) || last > (__int128{1} << 62)) fail("has a tensor too large to be real");
    }
    if (!empty && last >= numel_limit) fail("has a tensor reaching past the end of its storage");
    return v;
  }

  void finish() {
    if (stack_.size() != 1 || !marks_.empty()) fail("ends with " + std::to_string(stack_.size()) + " values on its stack");
    if (!stack_[0].value || stack_[0].is_storage || args_.count(stack_[0].value)) fail("ends with a global or a storage");
    doc_.root_ = stack_[0].value;
  }

  std::string_view in_;
  const std::string& what_;
  PickleDocument& doc_;
  size_t pos_ = 0;
  std::vector<Item> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Item> memo_;
  std::map<const PickleValue*, std::vector<Item>> args_;  // tuples holding globals or storages
};

PickleDocument parse_pickle(std::string_view bytes, const std::string& what) {
  PickleDocument doc;
  PickleParser(bytes, what, doc).run();
  return doc;
}

namespace {

struct Flattener {
  const std::string& what;
  std::vector<std::pair<std::string, const PickleTensor*>> out;
  int64_t visits = 0;

  [[noreturn]] void fail(const std::string& why) const { throw ModelFileError(what + ": state_dict " + why); }

  void walk(const PickleValue* dict, const std::string& prefix, int depth) {
    if (depth > kPickleMaxDepth) fail("nests deeper than " + std::to_string(kPickleMaxDepth) + " levels (or refers to itself)");
    for (size_t i = 0; i + 1 < dict->items.size(); i += 2) {
      if (++visits > kPickleMaxValues) fail("has too many entries");
      const PickleValue* k = dict->items[i];
      const PickleValue* v = dict->items[i + 1];
      if (k->kind != PickleValue::Kind::String) continue;  // e.g. an int-keyed optimizer state
      const std::string name = prefix.empty() ? k->s : prefix + "." + k->s;
      if (v->kind == PickleValue::Kind::Tensor) out.emplace_back(name, &v->tensor);
      else if (v->kind == PickleValue::Kind::Dict) walk(v, name, depth + 1);
    }
  }
};

}  // namespace

std::vector<std::pair<std::string, const PickleTensor*>> state_dict_entries(const PickleDocument& doc,
                                                                            const std::string& what) {
  const PickleValue* root = doc.root();
  if (!root || root->kind != PickleValue::Kind::Dict) throw ModelFileError(what + ": holds no dict of tensors");
  // {"epoch": 3, "state_dict": {...}}: the named dict.
  for (const char* key : {"state_dict", "model", "netG", "generator"})
    for (size_t i = 0; i + 1 < root->items.size(); i += 2)
      if (root->items[i]->kind == PickleValue::Kind::String && root->items[i]->s == key &&
          root->items[i + 1]->kind == PickleValue::Kind::Dict) {
        root = root->items[i + 1];
        goto found;
      }
found:
  Flattener f{what, {}, 0};
  f.walk(root, "", 0);
  if (f.out.empty()) throw ModelFileError(what + ": holds no tensors");
  return std::move(f.out);
}

namespace {

void put_int(std::string& p, int64_t v) {
  if (v >= INT32_MIN && v <= INT32_MAX) {
    p += 'J';
    const auto u = static_cast<uint32_t>(static_cast<int32_t>(v));
    for (int i = 0; i < 4; ++i) p += static_cast<char>((u >> (8 * i)) & 0xff);
  } else {
    p += static_cast<char>(0x8a);
    p += static_cast<char>(8);
    const auto u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) p += static_cast<char>((u >> (8 * i)) & 0xff);
  }
}
void put_str(std::string& p, const std::string& s) {
  p += 'X';
  const auto n = static_cast<uint32_t>(s.size());
  for (int i = 0; i < 4; ++i) p += static_cast<char>((n >> (8 * i)) & 0xff);
  p += s;
}
void put_global(std::string& p, const std::string& module, const std::string& name) {
  p += 'c';
  p += module + "\n" + name + "\n";
}
void put_int_tuple(std::string& p, const std::vector<int64_t>& v) {
  p += '(';
  for (int64_t x : v) put_int(p, x);
  p += 't';
}

}  // namespace

std::string write_state_dict_pickle(const std::vector<PickleTensorOut>& tensors) {
  std::string p = "\x80\x02";
  put_global(p, "collections", "OrderedDict");
  p += ")R(";
  for (size_t k = 0; k < tensors.size(); ++k) {
    const PickleTensorOut& t = tensors[k];
    const char* storage = nullptr;
    for (const auto& s : kStorages)
      if (t.dtype == s.dtype) storage = s.global + 6;  // after "torch."
    if (!storage) throw Error(kExitInternal, "write_state_dict_pickle: dtype " + t.dtype);
    int64_t numel = 1;
    std::vector<int64_t> stride(t.size.size());
    for (size_t d = t.size.size(); d-- > 0;) {
      stride[d] = numel;
      numel *= t.size[d];
    }
    put_str(p, t.name);
    put_global(p, "torch._utils", "_rebuild_tensor_v2");
    p += "((";
    put_str(p, "storage");
    put_global(p, "torch", storage);
    put_str(p, std::to_string(k));
    put_str(p, "cpu");
    put_int(p, numel);
    p += "tQ";
    put_int(p, 0);
    put_int_tuple(p, t.size);
    put_int_tuple(p, stride);
    p += "\x89";
    put_global(p, "collections", "OrderedDict");
    p += ")RtR";
  }
  p += "u.";
  return p;
}

}  // namespace ctxenc
