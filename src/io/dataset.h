// io/dataset.h — internal: which image files a dataset path names.
//
// Layouts:
//   * a text file (.txt/.lst/.list): one image path per line, relative to the
//     file's folder; blank lines and '#' comments ignored;
//   * Paris StreetView: DIR/paris_train_original/ (train), DIR/paris_eval_gt/ (val);
//   * split folders: DIR/train/ and DIR/val/ (ImageNet-style class trees inside
//     work too, as does the Debian photo set);
//   * any other folder: every image below it, recursively (list_images).
#pragma once
#include <string>
#include <vector>

namespace ctxenc {

enum class Split { Train, Val };

struct DatasetFiles {
  std::vector<std::string> files;  // sorted, absolute or as given
  std::string layout;              // "list", "paris", "split", "folder"
};

// Throws DataError if the path is empty, missing or holds no images.
DatasetFiles list_dataset(const std::string& path, Split split = Split::Train);

}  // namespace ctxenc
