// test_dataset.cpp — dataset layouts: lists, Paris StreetView, train/val folders, plain folders.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ctxenc/errors.h"
#include "io/dataset.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

TEST(Dataset, ResolvesEveryLayout) {
  TempDir d;
  auto files = photos();
  ASSERT_EQ(files.size(), 8u);
  EXPECT_EQ(list_dataset(photos_dir()).layout, "folder");
  // train/ + val/ split folders, with an ImageNet-style class level inside.
  fs::create_directories(d.path / "split/train/cats");
  fs::create_directories(d.path / "split/val/dogs");
  fs::copy_file(files[0], d.path / "split/train/cats/a.jpg");
  fs::copy_file(files[1], d.path / "split/train/cats/b.jpg");
  fs::copy_file(files[2], d.path / "split/val/dogs/c.jpg");
  EXPECT_EQ(list_dataset(d / "split", Split::Train).files.size(), 2u);
  EXPECT_EQ(list_dataset(d / "split", Split::Val).files.size(), 1u);
  EXPECT_EQ(list_dataset(d / "split").layout, "split");
  // Paris StreetView.
  fs::create_directories(d.path / "paris/paris_train_original");
  fs::create_directories(d.path / "paris/paris_eval_gt");
  fs::copy_file(files[3], d.path / "paris/paris_train_original/x.jpg");
  fs::copy_file(files[4], d.path / "paris/paris_eval_gt/y.jpg");
  fs::copy_file(files[5], d.path / "paris/paris_eval_gt/z.jpg");
  EXPECT_EQ(list_dataset(d / "paris").layout, "paris");
  EXPECT_EQ(list_dataset(d / "paris", Split::Val).files.size(), 2u);
  // A file list, relative to the list's folder, with comments.
  std::ofstream(d / "paris/list.txt") << "# comment\nparis_eval_gt/y.jpg\n\n" << files[6] << "\n";
  auto l = list_dataset(d / "paris/list.txt");
  EXPECT_EQ(l.layout, "list");
  ASSERT_EQ(l.files.size(), 2u);
  EXPECT_TRUE(fs::exists(l.files[0]));
  // Errors.
  EXPECT_THROW(list_dataset(d / "missing"), DataError);
  fs::create_directories(d.path / "empty");
  EXPECT_THROW(list_dataset(d / "empty"), DataError);
}
