// io/pickle.h — internal: a restricted reader of Python pickles, and the
// writer of the one pickle ctxenc produces (a PyTorch state_dict).
//
// The reader accepts what `torch.save(state_dict)` writes and nothing that
// runs code: None, bools, ints, floats, strings and bytes, tuples, lists,
// dicts (collections.OrderedDict included), and tensors
// (torch._utils._rebuild_tensor_v2 / _rebuild_parameter over a persistent
// ('storage', torch.<Type>Storage, key, location, numel) record). Any other
// global (os.system, builtins.eval, ...), any other call (REDUCE, NEWOBJ,
// INST, OBJ), extension codes and BUILD on anything but a dict are refused
// with ModelFileError before anything is done with them. Every read is
// bounds-checked; the stack, the memo, the number of values and the nesting
// depth are limited (docs/reliability.md). Protocols 2 to 5.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ctxenc {

struct PickleTensor {
  std::string storage_key;    // archive/data/<key>
  std::string dtype;          // "float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"
  int64_t storage_numel = 0;  // elements the storage declares
  int64_t offset = 0;         // storage offset, in elements
  std::vector<int64_t> size, stride;
};

struct PickleValue {
  enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Tensor };
  Kind kind = Kind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                       // String, Bytes
  std::vector<const PickleValue*> items;  // Tuple, List; Dict: key, value, key, value, ...
  PickleTensor tensor;                 // Tensor
};

// Owns every value of one parsed pickle (values refer to each other by pointer).
class PickleDocument {
 public:
  const PickleValue* root() const { return root_; }

 private:
  friend PickleDocument parse_pickle(std::string_view, const std::string&);
  friend class PickleParser;
  std::vector<std::unique_ptr<PickleValue>> values_;
  const PickleValue* root_ = nullptr;
};

// Limits of the reader (each far above what a state_dict of ctxenc's size needs).
constexpr int64_t kPickleMaxValues = 1'000'000;  // values created (~200 MB at most)
constexpr int64_t kPickleMaxStack = 1'000'000;   // stack + marks
constexpr int kPickleMaxDepth = 64;              // nesting of containers below the root

// Throws ModelFileError("<what>: pickle ...") naming the first offence.
PickleDocument parse_pickle(std::string_view bytes, const std::string& what);

// The flat name -> tensor entries of a parsed state_dict: the root dict, or
// the dict under "state_dict" / "model" / "netG" / "generator" (as training
// scripts save {"epoch": ..., "state_dict": ...}); nested dicts of tensors
// are joined with '.'. Other plain values beside them are ignored. Cycles and
// nesting past kPickleMaxDepth are refused.
std::vector<std::pair<std::string, const PickleTensor*>> state_dict_entries(const PickleDocument& doc,
                                                                            const std::string& what);

// A pickle (protocol 2) of an OrderedDict name -> tensor, as torch.save writes
// it; tensors refer to storages "0", "1", ... in order.
struct PickleTensorOut {
  std::string name;
  std::string dtype;  // as PickleTensor::dtype
  std::vector<int64_t> size;  // contiguous
};
std::string write_state_dict_pickle(const std::vector<PickleTensorOut>& tensors);

// Bytes per element of a dtype name (0 for an unknown name).
int pickle_dtype_size(const std::string& dtype);

}  // namespace ctxenc
