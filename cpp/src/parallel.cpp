#include "fitcore/parallel.hpp"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <immintrin.h>
#include <memory>
#include <mutex>
#include <new>
#include <pthread.h>
#include <thread>
#include <vector>

#include "fitcore/buffer.hpp"

namespace fitcore {
namespace {

// A job is published as one 64-bit word: generation (high 32 bits) and next unclaimed task (low
// 32). A helper claims a task by a compare-exchange that also checks the generation, so a helper
// that woke late can never run a task of a job that has ended. Publishing first closes the word
// (kClosed: nothing to claim) before the job's function and size are replaced, then opens it.
class Pool {
 public:
  explicit Pool(int helpers) {
    for (int i = 0; i < helpers; ++i) threads_.emplace_back([this] { helper_loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  int size() const { return static_cast<int>(threads_.size()) + 1; }

  // Returns false (and runs nothing) when another caller is using the pool.
  bool run(int64_t tasks, const std::function<void(int64_t)>& f) {
    std::unique_lock<std::mutex> busy(caller_, std::try_to_lock);
    if (!busy.owns_lock() || tasks >= static_cast<int64_t>(kClosed)) return false;
    const uint64_t generation = (state_.load(std::memory_order_relaxed) >> 32) + 1;
    state_.store(generation << 32 | kClosed, std::memory_order_seq_cst);
    job_.store(&f, std::memory_order_release);
    tasks_.store(tasks, std::memory_order_release);
    done_.store(0, std::memory_order_relaxed);
    // seq_cst here and in the helpers' sleep: either we see a sleeper or it sees this job.
    state_.store(generation << 32, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(mutex_);  // pairs with the helpers' wait
      wake_.notify_all();
    }
    int64_t mine = 0;
    for (int64_t i; (i = claim(generation, tasks)) >= 0; ++mine) f(i);
    done_.fetch_add(mine, std::memory_order_acq_rel);
    // Wait only for tasks a helper has claimed and not yet finished.
    for (int spins = 0; done_.load(std::memory_order_acquire) < tasks; ++spins)
      if (spins < 500) _mm_pause(); else std::this_thread::yield();
    return true;
  }

 private:
  static constexpr uint64_t kClosed = 0xFFFFFFFFu;

  int64_t claim(uint64_t generation, int64_t tasks) {
    uint64_t s = state_.load(std::memory_order_acquire);
    while ((s >> 32) == generation && static_cast<int64_t>(s & kClosed) < tasks)
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) return static_cast<int64_t>(s & kClosed);
    return -1;
  }

  // A job this helper has not worked on, open for claims.
  bool is_new(uint64_t s, uint64_t seen) const { return (s >> 32) != seen && (s & kClosed) != kClosed; }

  void helper_loop() {
    uint64_t seen = 0;  // the last generation this helper worked on
    for (;;) {
      // Spin briefly for the next job (a step's jobs follow each other closely), then sleep.
      uint64_t s = state_.load(std::memory_order_acquire);
      for (int spins = 0; !is_new(s, seen) && spins < 500; ++spins) {
        _mm_pause();
        s = state_.load(std::memory_order_acquire);
      }
      if (!is_new(s, seen)) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleeping_.fetch_add(1, std::memory_order_seq_cst);
        wake_.wait(lock, [&] { return stop_ || is_new(s = state_.load(std::memory_order_seq_cst), seen); });
        sleeping_.fetch_sub(1, std::memory_order_seq_cst);
        if (stop_) return;
      }
      seen = s >> 32;
      // Read after the open word: this job's values, or a later job's (then every claim fails).
      const auto* f = job_.load(std::memory_order_acquire);
      const int64_t tasks = tasks_.load(std::memory_order_acquire);
      int64_t mine = 0;
      for (int64_t i; (i = claim(seen, tasks)) >= 0; ++mine) (*f)(i);
      if (mine) done_.fetch_add(mine, std::memory_order_acq_rel);
    }
  }

  std::vector<std::thread> threads_;
  std::mutex caller_, mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::atomic<uint64_t> state_{0};
  std::atomic<const std::function<void(int64_t)>*> job_{nullptr};
  std::atomic<int64_t> tasks_{0}, done_{0};
  std::atomic<int> sleeping_{0};
};

// The pool is process-wide like OpenMP's own team: one set of helpers however many models exist.
std::mutex g_pool_mutex;
std::shared_ptr<Pool> g_pool;
thread_local bool t_inside_task = false;

// A forked child has none of the helper threads: it forgets (leaks) the parent's pool.
void forget_pool_after_fork() {
  new (&g_pool_mutex) std::mutex;
  (void)new std::shared_ptr<Pool>(std::move(g_pool));
}

std::shared_ptr<Pool> pool() {
  static const int registered = pthread_atfork(nullptr, nullptr, forget_pool_after_fork);
  (void)registered;
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (!g_pool) g_pool = std::make_shared<Pool>(std::max(1, omp_get_max_threads()) - 1);
  return g_pool;
}

}  // namespace

void set_num_threads(int n) {
  n = std::max(1, n);
  omp_set_num_threads(n);
  Eigen::setNbThreads(1);
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (!g_pool || g_pool->size() != n) g_pool.reset();  // made again, with n - 1 helpers, on next use
}

int num_threads() { return omp_get_max_threads(); }

void parallel_for(int64_t tasks, bool parallel, const std::function<void(int64_t)>& f) {
  if (parallel && tasks > 1 && !t_inside_task && num_threads() > 1) {
    auto p = pool();  // kept alive for this job even if set_num_threads swaps the pool
    if (p->size() > 1) {
      t_inside_task = true;  // a task that calls parallel_for runs its inner loop in order
      const bool ran = p->run(tasks, [&](int64_t i) {
        const bool outer = t_inside_task;
        t_inside_task = true;
        f(i);
        t_inside_task = outer;
      });
      t_inside_task = false;
      if (ran) return;
    }
  }
  for (int64_t i = 0; i < tasks; ++i) f(i);
}

void parallel_chunks(int64_t n, const std::function<void(int64_t, int64_t)>& f) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  parallel_for(chunks, n > kChunkGrain, [&](int64_t c) { f(c * kChunk, std::min(n, (c + 1) * kChunk)); });
}

}  // namespace fitcore
