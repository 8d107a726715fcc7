// fuzz_model_file.cpp — libFuzzer harness: any bytes as a .ctxm model file or
// checkpoint, through the container, the stored config, the tensor-archive
// gate and the checked tensor load. Only ctxenc::Error may come out.
#include "ctxenc/errors.h"
#include "ctxenc/model_info.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ctxenc::fuzz::MemFile file(data, size);
  try {
    ctxenc::describe_model_file(file.path());
  } catch (const ctxenc::Error&) {
  }
  return 0;
}
