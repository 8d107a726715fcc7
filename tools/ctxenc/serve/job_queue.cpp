// serve/job_queue.cpp — the bounded job queue and its worker threads.
#include "serve/job_queue.h"

#include "ctxenc/config.h"

namespace ctxenc::serve {

JobQueue::JobQueue(int workers, size_t capacity, int threads_per_worker) : capacity_(capacity) {
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this, threads_per_worker] { work(threads_per_worker); });
}

JobQueue::~JobQueue() { shutdown(); }

bool JobQueue::try_submit(std::function<void()> job, uint64_t* ticket) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // capacity_ jobs may wait beyond those the workers can start at once.
    if (stopping_ || jobs_.size() + running_ >= capacity_ + threads_.size()) return false;
    const uint64_t t = next_ticket_++;
    jobs_.emplace_back(t, std::move(job));
    if (ticket) *ticket = t;
  }
  ready_.notify_one();
  return true;
}

bool JobQueue::cancel(uint64_t ticket) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = jobs_.begin(); it != jobs_.end(); ++it)
    if (it->first == ticket) {
      jobs_.erase(it);
      return true;
    }
  return false;
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
      job = std::move(jobs_.front().second);
      jobs_.pop_front();
      ++running_;
    }
    job();  // jobs catch their own errors
    std::lock_guard<std::mutex> lock(mutex_);
    --running_;
  }
}

}  // namespace ctxenc::serve
