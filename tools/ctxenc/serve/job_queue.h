// serve/job_queue.h — a bounded queue in front of a fixed number of inference
// workers. A job that does not fit is refused at once (the server answers 503
// with Retry-After), so memory stays bounded however many clients call.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace ctxenc::serve {

class JobQueue {
 public:
  // workers threads, each running jobs with `threads_per_worker` compute
  // threads (set_threads in the worker); at most `capacity` jobs wait.
  JobQueue(int workers, size_t capacity, int threads_per_worker);
  ~JobQueue();  // finishes every queued job, then joins the workers
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  // False when every worker is busy and `capacity` jobs already wait, or
  // when shutting down (the job is not taken).
  // On success *ticket (if given) names the job for cancel().
  bool try_submit(std::function<void()> job, uint64_t* ticket = nullptr);
  // Removes a job that has not started (a request that timed out), freeing
  // its place at once. False when it has started, finished or is unknown.
  bool cancel(uint64_t ticket);
  void shutdown();  // refuses new jobs, runs those queued, joins the workers

  size_t waiting() const;  // jobs queued, not yet started
  size_t running() const;  // jobs a worker is running
  size_t capacity() const { return capacity_; }
  int workers() const { return static_cast<int>(threads_.size()); }

 private:
  void work(int threads);

  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::pair<uint64_t, std::function<void()>>> jobs_;  // (ticket, job)
  uint64_t next_ticket_ = 1;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ctxenc::serve
