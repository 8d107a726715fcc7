// serve/metrics.h — request counters and latency histograms of a server, in
// the Prometheus text exposition format (GET /metrics).
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace ctxenc::serve {

class Metrics {
 public:
  // One finished request: its route ("/api/v1/inpaint", ...), status, seconds.
  void record(const std::string& route, int status, double seconds);
  // The exposition text; queue figures are read at the time of the scrape.
  std::string prometheus(size_t queue_waiting, size_t queue_running, size_t queue_capacity, int workers) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10,  30};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};  // per bucket, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (route, status) -> count
  std::map<std::string, Histogram> latency_;                  // route -> seconds
};

}  // namespace ctxenc::serve
