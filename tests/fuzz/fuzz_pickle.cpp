// fuzz_pickle.cpp — libFuzzer harness: any bytes as the data.pkl of a
// PyTorch state_dict (as `ctxenc import` reads it): the restricted parser,
// then the walk to name -> tensor entries. Only ctxenc::Error may come out.
#include <string_view>

#include "ctxenc/errors.h"
#include "io/pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const ctxenc::PickleDocument doc =
        ctxenc::parse_pickle(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    ctxenc::state_dict_entries(doc, "fuzz");
  } catch (const ctxenc::Error&) {
  }
  return 0;
}
