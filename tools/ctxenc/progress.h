// progress.h — a terminal progress bar with rate, ETA and a status suffix.
// On a TTY it redraws one line (coloured unless NO_COLOR); otherwise it
// prints a plain line every 10 s and a final one; under --quiet nothing.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace ctxenc::cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, int64_t start = 0, std::string unit = "it");
  void update(int64_t done, const std::string& suffix = "");
  // Draws the last state (done as last updated) as the final line.
  void finish(const std::string& suffix = "");

 private:
  void draw(int64_t done, const std::string& suffix, bool final);
  std::string label_, unit_;
  int64_t total_, start_, last_done_ = 0;
  std::string last_suffix_;
  bool tty_, color_, quiet_;
  std::chrono::steady_clock::time_point t0_, last_;
};

}  // namespace ctxenc::cli
