// progress.cpp — progress bar rendering: on a terminal one redrawn line
// (coloured unless NO_COLOR), otherwise a plain line every 10 s and a final
// one; nothing under --quiet.
#include "progress.h"

#include <cstdio>

#include "cli_output.h"

namespace ctxenc::cli {

static std::string fmt_duration(double s) {
  if (!(s >= 0) || s > 1e7) return "--:--";
  const long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else std::snprintf(buf, sizeof(buf), "%02ld:%02ld", t / 60, t % 60);
  return buf;
}

ProgressBar::ProgressBar(std::string label, int64_t total, int64_t start, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), start_(start),
      tty_(stderr_is_tty()), color_(use_color()), quiet_(quiet()), t0_(std::chrono::steady_clock::now()), last_(t0_) {}

void ProgressBar::update(int64_t done, const std::string& suffix) {
  last_done_ = done;
  last_suffix_ = suffix;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if (done >= total_) return;  // the final line is finish()'s
  if (since < (tty_ ? 0.1 : 10.0)) return;
  last_ = now;
  draw(done, suffix, false);
}

void ProgressBar::finish(const std::string& suffix) {
  draw(last_done_, suffix.empty() ? last_suffix_ : suffix, true);
}

void ProgressBar::draw(int64_t done, const std::string& suffix, bool final) {
  if (quiet_) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done - start_) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1.0;
  const int width = 24;
  const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const int filled = static_cast<int>(frac * width);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, '.');
  // Green for the done part on a colour terminal.
  if (color_) bar = "\033[32m" + bar.substr(0, filled) + "\033[0m" + bar.substr(filled);
  char head[256];
  std::snprintf(head, sizeof(head), "%s [%s] %lld/%lld %3.0f%% %s<%s %.2f %s/s", label_.c_str(), bar.c_str(),
                static_cast<long long>(done), static_cast<long long>(total_), 100.0 * frac,
                fmt_duration(elapsed).c_str(), final && done >= total_ ? "00:00" : fmt_duration(eta).c_str(), rate, unit_.c_str());
  std::string line = std::string(head) + (suffix.empty() ? "" : " " + suffix);
  if (tty_) std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final ? "\n" : "");
  else std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace ctxenc::cli
