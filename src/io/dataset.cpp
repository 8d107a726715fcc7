// dataset.cpp — dataset layouts: which image files a path names, per split.
#include "io/dataset.h"

#include <filesystem>
#include <fstream>

#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"

namespace ctxenc {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> read_list(const fs::path& list) {
  std::ifstream in(list);
  if (!in) throw DataError("cannot read file list '" + list.string() + "'");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    line.erase(0, line.find_first_not_of(" \t\r"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (line.empty() || line[0] == '#') continue;
    fs::path p(line);
    out.push_back((p.is_absolute() ? p : list.parent_path() / p).string());
  }
  return out;
}

}  // namespace

DatasetFiles list_dataset(const std::string& path, Split split) {
  std::error_code ec;
  const fs::path p(path);
  if (path.empty()) throw DataError("no dataset given (an empty data path)");
  if (!fs::exists(p, ec)) throw DataError("dataset '" + path + "' does not exist");
  DatasetFiles out;
  const char* split_name = split == Split::Train ? "train" : "val";
  if (fs::is_regular_file(p, ec)) {
    out = {read_list(p), "list"};
  } else if (fs::is_directory(p / "paris_train_original", ec) || fs::is_directory(p / "paris_eval_gt", ec)) {
    out = {list_images((p / (split == Split::Train ? "paris_train_original" : "paris_eval_gt")).string()), "paris"};
  } else if (fs::is_directory(p / "train", ec) && fs::is_directory(p / "val", ec)) {
    out = {list_images((p / split_name).string()), "split"};
  } else {
    out = {list_images(path), "folder"};
  }
  if (out.files.empty())
    throw DataError("dataset '" + path + "' (" + out.layout + " layout, " + split_name +
                    " split) holds no .jpg/.png/.webp/.bmp images");
  return out;
}

}  // namespace ctxenc
