// serve/metrics.cpp — counters and histograms, and their Prometheus text.
#include "serve/metrics.h"

#include <sstream>

namespace ctxenc::serve {

void Metrics::record(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) {
      ++h.counts[i];
      break;
    }
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::prometheus(size_t queue_waiting, size_t queue_running, size_t queue_capacity,
                                int workers) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::ostringstream o;
  o << "# HELP ctxenc_http_requests_total HTTP requests answered, by route and status.\n"
    << "# TYPE ctxenc_http_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    o << "ctxenc_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
  o << "# HELP ctxenc_http_request_duration_seconds Time from request read to response, by route.\n"
    << "# TYPE ctxenc_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.counts[i];
      o << "ctxenc_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"" << kBuckets[i] << "\"} "
        << cumulative << "\n";
    }
    o << "ctxenc_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} " << h.count << "\n"
      << "ctxenc_http_request_duration_seconds_sum{route=\"" << route << "\"} " << h.sum << "\n"
      << "ctxenc_http_request_duration_seconds_count{route=\"" << route << "\"} " << h.count << "\n";
  }
  o << "# HELP ctxenc_queue_waiting Inpaint jobs queued, not yet started.\n# TYPE ctxenc_queue_waiting gauge\n"
    << "ctxenc_queue_waiting " << queue_waiting << "\n"
    << "# HELP ctxenc_queue_running Inpaint jobs running.\n# TYPE ctxenc_queue_running gauge\n"
    << "ctxenc_queue_running " << queue_running << "\n"
    << "# HELP ctxenc_queue_capacity Inpaint jobs that may wait.\n# TYPE ctxenc_queue_capacity gauge\n"
    << "ctxenc_queue_capacity " << queue_capacity << "\n"
    << "# HELP ctxenc_workers Inference workers.\n# TYPE ctxenc_workers gauge\n"
    << "ctxenc_workers " << workers << "\n";
  return o.str();
}

}  // namespace ctxenc::serve
