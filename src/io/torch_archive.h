// io/torch_archive.h — internal: the gate every torch tensor archive passes
// before libtorch reads it.
//
// The tensor sections of checkpoints and model files are libtorch's
// serialize::OutputArchive zips, which torch::jit::load reads: a zip of
// data.pkl, data/N tensor records and TorchScript source in code/. Loading
// TorchScript source compiles its methods, and __setstate__ runs at load
// time, so an archive from elsewhere could carry code. An archive passes only
// if it is what ctxenc writes:
//   * a well-formed zip whose every length and offset lies inside the bytes;
//   * one top-level folder holding only data.pkl, constants.pkl, version,
//     byteorder, data/<digits>, and code/**.py with their .debug_pkl;
//   * tensor records stored (not compressed), so nothing expands past the file;
//     other entries at most 16 MiB when inflated;
//   * code/**.py that only declares attributes: class headers, __parameters__ /
//     __buffers__ / __annotations__ lists and `name : Type` lines; no def, no
//     decorator, no call.
// Throws ModelFileError("<what>: ...") naming the first offence.
#pragma once
#include <map>
#include <string>
#include <string_view>

namespace ctxenc {

void check_torch_archive(std::string_view zip, const std::string& what);

// A checked archive's entries by their name inside the top-level folder
// ("data.pkl", "data/0", "version"), viewing `zip`. Every entry read must be
// stored (torch.save never compresses); a compressed one is refused.
std::map<std::string, std::string_view> torch_archive_entries(std::string_view zip, const std::string& what);

}  // namespace ctxenc
