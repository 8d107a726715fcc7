// cli_output.h — what every subcommand shares about the terminal: --quiet,
// whether stderr is a terminal, NO_COLOR, and `-` as stdin/stdout for images.
#pragma once
#include <string>

#include <opencv2/core.hpp>

namespace ctxenc::cli {

// -q/--quiet (global): no progress, no notes; errors and requested output still print.
void set_quiet(bool quiet);
bool quiet();
// stderr is a terminal (progress redraws one line) and, for colour, NO_COLOR is unset and TERM is not dumb.
bool stderr_is_tty();
bool use_color();

// `-` reads the image from stdin / writes it to stdout as PNG (or the format
// of `format_ext`, e.g. ".jpg"); any other name is a file (ctxenc/image_io.h).
bool is_stdio(const std::string& name);
cv::Mat load_image_or_stdin(const std::string& name, int64_t max_pixels);
void save_image_or_stdout(const std::string& name, const cv::Mat& rgb_or_grey, const std::string& format_ext = ".png");

}  // namespace ctxenc::cli
