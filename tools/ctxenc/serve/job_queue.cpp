// serve/job_queue.cpp — the bounded job queue and its worker threads.
#include "serve/job_queue.h"

#include "ctxenc/config.h"

namespace ctxenc::serve {

JobQueue::JobQueue(int workers, size_t capacity, int threads_per_worker) : capacity_(capacity) {
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this, threads_per_worker] { work(threads_per_worker); });
}

JobQueue::~JobQueue() { shutdown(); }

bool JobQueue::try_submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // capacity_ jobs may wait beyond those the workers can start at once.
    if (stopping_ || jobs_.size() + running_ >= capacity_ + threads_.size()) return false;
    jobs_.push_back(std::move(job));
  }
  ready_.notify_one();
  return true;
}

void JobQueue::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
}

size_t JobQueue::waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return jobs_.size();
}
size_t JobQueue::running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_;
}

void JobQueue::work(int threads) {
  set_threads(threads);  // OpenMP's thread count is per calling thread
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left to run
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
    }
    job();  // jobs catch their own errors
    std::lock_guard<std::mutex> lock(mutex_);
    --running_;
  }
}

}  // namespace ctxenc::serve
