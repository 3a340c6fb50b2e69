#include "fitcore/parallel.hpp"

#include <omp.h>
#include <pthread.h>

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>  // _mm_getcsr / _mm_setcsr
#endif

namespace fitcore {

namespace {

// Process-wide by definition (the documented contract of set_num_threads), hence atomics rather
// than per-object state. 0: not set yet, OpenMP's default (OMP_NUM_THREADS or all cores) applies.
std::atomic<int> process_threads{0};
std::atomic<bool> threads_started{false};  // a core call asked OpenMP for more than one thread
std::atomic<bool> forked_child{false};

void* exit_at_once(void*) { return nullptr; }

// Starts and joins `count` threads; false (with the errno text) if one could not be started.
bool can_start_threads(int count, std::string& why) {
  std::vector<pthread_t> started;
  started.reserve(static_cast<size_t>(count));
  int error = 0;
  for (int i = 0; i < count && error == 0; ++i) {
    pthread_t t;
    error = pthread_create(&t, nullptr, exit_at_once, nullptr);
    if (error == 0) started.push_back(t);
  }
  for (pthread_t t : started) pthread_join(t, nullptr);
  if (error != 0) why = std::strerror(error);
  return error == 0;
}

void after_fork_in_child() {
  if (threads_started.load()) {
    forked_child.store(true);
    process_threads.store(1);
  }
}

// Each thread's floating-point mode under ScopedFlushDenormals: the mode before its outermost scope,
// and how many scopes it is in (a thread's own state, not shared).
thread_local unsigned mode_before_flush = 0;
thread_local int flush_depth = 0;

#if defined(__x86_64__) || defined(__i386__)
constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;  // MXCSR bits 15 and 6
void enter_flush() {
  if (flush_depth++ > 0) return;
  mode_before_flush = _mm_getcsr();
  _mm_setcsr(mode_before_flush | kFlushToZero | kDenormalsAreZero);
}
void leave_flush() {
  if (flush_depth > 0 && --flush_depth == 0) _mm_setcsr(mode_before_flush);
}
#else  // other architectures compute with denormals: correct, only slower
void enter_flush() {}
void leave_flush() {}
#endif

// Runs f once on each thread of a team of `threads` (libgomp keeps a caller's pool threads in
// order, so the team of the leaving call is the team of the entering one).
void on_each_thread(int threads, void (*f)()) {
  if (threads > 1) threads_started.store(true, std::memory_order_relaxed);  // before they start
#pragma omp parallel num_threads(threads) if (threads > 1 && !omp_in_parallel())
  f();
}

}  // namespace

ScopedFlushDenormals::ScopedFlushDenormals(int threads) : threads_(threads) { on_each_thread(threads_, enter_flush); }

ScopedFlushDenormals::~ScopedFlushDenormals() { on_each_thread(threads_, leave_flush); }

int max_threads() {
  // Read once: hardware_concurrency() reads /sys on every call, and this is asked at every core call.
  static const int bound = std::max(64, 8 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  return bound;
}

void set_num_threads(int n) {
  n = std::max(1, n);
  if (n > max_threads())
    throw std::invalid_argument("set_num_threads: at most " + std::to_string(max_threads()) +
                                " threads on this machine, got " + std::to_string(n));
  if (n > 1 && forked_child.load())
    throw std::runtime_error("set_num_threads: this process was forked after the core ran threads, and OpenMP's "
                             "thread pool does not survive fork(); the core runs on one thread here");
  std::string why;
  if (n > 1 && !can_start_threads(n - 1, why))
    throw std::runtime_error("set_num_threads: cannot start " + std::to_string(n - 1) +
                             " more threads (" + why + "); the process or system limit allows fewer");
  process_threads.store(n);
  Eigen::setNbThreads(1);  // GEMMs are split into fixed blocks by parallel_for instead
}

int num_threads() {
  const int n = process_threads.load();
  return n > 0 ? n : std::min(omp_get_max_threads(), max_threads());
}

void init_threads() {
  static const int installed = pthread_atfork(nullptr, nullptr, after_fork_in_child);
  (void)installed;
  Eigen::setNbThreads(1);
}

bool in_forked_child() { return forked_child.load(); }

void parallel_for(int64_t tasks, bool parallel, const std::function<void(int64_t)>& f) {
  // Tasks are claimed one at a time, so a thread that starts late takes less; which thread runs a
  // task never changes what it computes. Nested calls (a task's own loops) run on the caller.
#pragma omp parallel for schedule(dynamic, 1) if (parallel && tasks > 1 && !omp_in_parallel())
  for (int64_t i = 0; i < tasks; ++i) f(i);
}

namespace {

void in_fixed_chunks(int64_t n, int64_t chunk, int64_t grain, const std::function<void(int64_t, int64_t)>& f) {
  const int64_t chunks = (n + chunk - 1) / chunk;
  parallel_for(chunks, n > grain, [&](int64_t c) { f(c * chunk, std::min(n, (c + 1) * chunk)); });
}

}  // namespace

void parallel_chunks(int64_t n, const std::function<void(int64_t, int64_t)>& f) {
  in_fixed_chunks(n, kChunk, kChunkGrain, f);
}

void parallel_compute_chunks(int64_t n, const std::function<void(int64_t, int64_t)>& f) {
  in_fixed_chunks(n, kComputeChunk, kComputeChunk, f);
}

ScopedThreads::ScopedThreads(int n) : previous_(omp_get_max_threads()), current_(-1), flush_(n) {
  set(n);  // always applied (current_ -1): another thread may have changed the process-wide count
}

ScopedThreads::~ScopedThreads() { set(previous_); }

void ScopedThreads::set(int n) {
  if (n == current_) return;
  if (n > 1) threads_started.store(true, std::memory_order_relaxed);
  omp_set_num_threads(current_ = n);
}

int ThreadChooser::next(int max) const {
  if (max <= 1) return max;
  return (probing_ ? !one_ : one_) ? 1 : max;
}

void ThreadChooser::record(int64_t rows, double seconds) {
  rows_ += rows;
  seconds_ += seconds;
  if (++steps_ < kMaxWindow && (steps_ < kMinWindow || seconds_ < kWindowSeconds)) return;
  const bool measured = probing_ ? !one_ : one_;
  per_row_[measured] = seconds_ / static_cast<double>(std::max<int64_t>(rows_, 1));
  steps_ = 0, rows_ = 0, seconds_ = 0.0;
  if (probing_) {  // the other count must win clearly, twice: timings on a busy machine are noisy
    probing_ = false;
    const bool wins = per_row_[!one_] < 0.9 * per_row_[one_];
    if (wins && won_once_) {
      one_ = !one_;
      backoff_ = kMinBackoff;
    } else if (!wins) {
      backoff_ = std::min(2 * backoff_, kMaxBackoff);
    }
    won_once_ = wins && !won_once_;
    windows_to_probe_ = won_once_ ? 1 : backoff_;  // a first win: re-measure the current count, probe again
  } else if (--windows_to_probe_ <= 0) {
    probing_ = true;
  }
}

}  // namespace fitcore
