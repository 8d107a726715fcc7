// test_files.cpp — atomic, durable writes: a full disk (a file-size limit)
// leaves the old file whole, removes the temp file and throws OutputError.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"
#include "test_util.h"

using namespace ctxenc;
using namespace ctxenc::test;
namespace fs = std::filesystem;

TEST(Files, AFullDiskLeavesThePreviousFileIntact) {
  TempDir d;
  const std::string path = d / "checkpoint.ctx", old_bytes(1000, 'o');
  write_file_atomic(path, old_bytes);
  // In a child: a 64 KiB file-size limit, then a 1 MiB write over the old file.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim {65536, 65536};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    int code = 10;
    try {
      write_file_atomic(path, std::string(1 << 20, 'n'));
    } catch (const OutputError& e) {
      code = std::string(e.what()).find("File too large") != std::string::npos ? 0 : 11;
    } catch (...) {
      code = 12;
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: no error, 11: another message, 12: another exception";
  EXPECT_EQ(read_file(path), old_bytes);
  int files = 0;
  for (const auto& e : fs::directory_iterator(d.path)) files += (void(e), 1);
  EXPECT_EQ(files, 1) << "a temp file was left behind";
}

TEST(Files, WritesReplaceAndMissingFoldersAreOutputErrors) {
  TempDir d;
  write_file_atomic(d / "a", "one");
  write_file_atomic(d / "a", "two");
  EXPECT_EQ(read_file(d / "a"), "two");
  EXPECT_THROW(write_file_atomic(d / "no/such/folder/a", "x"), OutputError);
  EXPECT_THROW(read_file(d / "missing", kExitModel), ModelFileError);
}
