// cli_output.cpp — --quiet, terminal detection, NO_COLOR, and images through
// stdin/stdout: `-` goes through a private temporary file so that the
// library's checks (format from the header, pixel limit before decoding,
// EXIF rotation) apply to piped images exactly as to files.
#include "cli_output.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <iterator>

#include "ctxenc/errors.h"
#include "ctxenc/image_io.h"

namespace ctxenc::cli {
namespace fs = std::filesystem;
namespace {

bool g_quiet = false;

// A file in the temp folder, removed when this goes out of scope.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& ext) {
    const char* dir = std::getenv("TMPDIR");
    std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/ctxenc-stdio-XXXXXX" + ext;
    const int fd = ::mkstemps(tmpl.data(), static_cast<int>(ext.size()));
    if (fd < 0) throw OutputError("cannot create a temporary file in " + tmpl + ": " + std::strerror(errno));
    ::close(fd);
    path = tmpl;
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

}  // namespace

void set_quiet(bool q) { g_quiet = q; }
bool quiet() { return g_quiet; }

bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

bool use_color() {
  if (!stderr_is_tty()) return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;  // https://no-color.org: set and not empty
  const char* term = std::getenv("TERM");
  return !(term && std::strcmp(term, "dumb") == 0);
}

bool is_stdio(const std::string& name) { return name == "-"; }

cv::Mat load_image_or_stdin(const std::string& name, int64_t max_pixels) {
  if (!is_stdio(name)) return load_image_rgb(name, max_pixels);
  if (::isatty(STDIN_FILENO) == 1)
    throw UsageError("image '-' reads stdin, which is a terminal; pipe an image in (ctxenc inpaint - ... < photo.jpg)");
  std::string bytes((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (bytes.empty()) throw InputError("stdin: no image data");
  TempFile tmp("");
  write_file_atomic(tmp.path, bytes);
  try {
    return load_image_rgb(tmp.path, max_pixels);
  } catch (const Error& e) {
    // Name the source the user gave, not the temporary file.
    std::string msg = e.what();
    for (size_t at; (at = msg.find(tmp.path)) != std::string::npos;) msg.replace(at, tmp.path.size(), "stdin");
    throw_error(e.code(), msg);
  }
}

void save_image_or_stdout(const std::string& name, const cv::Mat& image, const std::string& format_ext) {
  if (!is_stdio(name)) return save_image(name, image);
  if (::isatty(STDOUT_FILENO) == 1)
    throw UsageError("output '-' writes a binary image to stdout, which is a terminal; redirect it (> out.png)");
  TempFile tmp(format_ext);
  save_image(tmp.path, image);
  const std::string bytes = read_file(tmp.path, kExitOutput);
  std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::cout.flush();
  if (!std::cout) throw OutputError("stdout: write failed");
}

}  // namespace ctxenc::cli
