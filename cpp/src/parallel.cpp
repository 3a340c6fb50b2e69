#include "fitcore/parallel.hpp"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>

namespace fitcore {

void set_num_threads(int n) {
  omp_set_num_threads(std::max(1, n));
  Eigen::setNbThreads(1);  // GEMMs are split into fixed blocks by parallel_for instead
}

int num_threads() { return omp_get_max_threads(); }

void parallel_for(int64_t tasks, bool parallel, const std::function<void(int64_t)>& f) {
  // Tasks are claimed one at a time, so a thread that starts late takes less; which thread runs a
  // task never changes what it computes. Nested calls (a task's own loops) run on the caller.
#pragma omp parallel for schedule(dynamic, 1) if (parallel && tasks > 1 && !omp_in_parallel())
  for (int64_t i = 0; i < tasks; ++i) f(i);
}

void parallel_chunks(int64_t n, const std::function<void(int64_t, int64_t)>& f) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  parallel_for(chunks, n > kChunkGrain, [&](int64_t c) { f(c * kChunk, std::min(n, (c + 1) * kChunk)); });
}

ScopedThreads::ScopedThreads(int n) : previous_(omp_get_max_threads()), current_(previous_) { set(n); }

ScopedThreads::~ScopedThreads() { set(previous_); }

void ScopedThreads::set(int n) {
  if (n != current_) omp_set_num_threads(current_ = n);
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
  if (probing_) {  // the other count must win clearly: timings on a busy machine are noisy
    probing_ = false;
    if (per_row_[!one_] < 0.9 * per_row_[one_]) {
      one_ = !one_;
      backoff_ = kMinBackoff;
    } else {
      backoff_ = std::min(2 * backoff_, kMaxBackoff);
    }
    windows_to_probe_ = backoff_;
  } else if (--windows_to_probe_ <= 0) {
    probing_ = true;
  }
}

}  // namespace fitcore
