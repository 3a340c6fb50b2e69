#pragma once
// Threads, and the fixed work partitions that keep results independent of the thread count.
#include <cstdint>
#include <functional>

namespace fitcore {

// The core's hot loops (Dense GEMM blocks, elementwise sweeps, optimizer updates) are split into
// tasks by size only, and OpenMP threads claim the tasks one at a time. Eigen's own GEMM threading
// stays off: its blocking depends on the thread count, and so would the bits of the result.
//
// The count is process-wide (OpenMP's own is per thread): every core entry point applies it to the
// calling thread with ScopedThreads(num_threads()). set_num_threads first checks that n - 1 more
// threads can be started, and throws std::runtime_error if not (libgomp would print "Thread
// creation failed" and end the process instead).
void set_num_threads(int n);
int num_threads();
// The largest count set_num_threads accepts: 8 threads per core, at least 64.
int max_threads();

// OpenMP's thread pool does not survive fork(): a child that used it would wait forever for
// threads that exist only in the parent. A child forked after the core ran threads therefore runs
// on one thread (set_num_threads then accepts only 1).
// init_threads: at module load, installs that fork handler and turns Eigen's own threading off.
void init_threads();
bool in_forked_child();

// Runs f(i) once for every i in [0, tasks), on OpenMP's threads when `parallel` and tasks > 1 (and
// not already inside a parallel region), else in order on the caller. Which thread runs a task
// never changes what it computes, so callers that split work into tasks by size only (never by
// thread count) get the same bits with any count.
void parallel_for(int64_t tasks, bool parallel, const std::function<void(int64_t)>& f);

// Elementwise loops: f(first, last) over fixed chunks of kChunk elements, in parallel above
// kChunkGrain elements. Sweeps are memory-bound and cheap (a ReLU over 64k floats takes ~10 us),
// so only long ones (the optimizer's over all parameters) are worth a hand-over.
constexpr int64_t kChunk = int64_t{1} << 14;
constexpr int64_t kChunkGrain = int64_t{1} << 17;
void parallel_chunks(int64_t n, const std::function<void(int64_t, int64_t)>& f);

// Compute-bound elementwise loops (a hash or a transcendental per value: dropout masks, Gaussian
// noise, gelu / tanh / sigmoid / silu / elu / softplus): f(first, last) over fixed chunks of
// kComputeChunk elements, in parallel from two chunks on. A dropout mask costs ~1.5 ns a value with
// AVX2, so one chunk is ~6 us of work against ~1-2 us to hand it over; left to parallel_chunks's
// grain, batch 256 x 256 ran its masks on one thread while the other waited.
constexpr int64_t kComputeChunk = int64_t{1} << 12;
void parallel_compute_chunks(int64_t n, const std::function<void(int64_t, int64_t)>& f);

// GEMM outputs are computed in blocks of this many columns, whatever the thread count.
constexpr int64_t kGemmBlock = 64;
inline int64_t gemm_blocks(int64_t cols) { return (cols + kGemmBlock - 1) / kGemmBlock; }
// A GEMM of fewer multiply-adds than this runs on one thread: handing work over would cost more.
constexpr int64_t kGemmGrain = int64_t{1} << 18;

// Flushes denormal floats to zero, as inputs and as results (x86's DAZ and FTZ), on the calling
// thread and on the OpenMP team of `threads` that runs its parallel loops, for one call into the
// core (every ScopedThreads holds one); each thread's previous mode comes back at the end. XLA
// computes this way under Keras/JAX, so Keras's numbers are these; and x86 takes a slow path for
// every denormal operand: Adam's momentum of a dead ReLU unit decays into the denormals and stays
// there (m * 0.1 rounds to 0 below 5e-45), which made the reference MLP's update 2.5x slower. The
// kernels themselves stay exact on denormals when called outside such a scope (test_vecmath checks
// them there).
class ScopedFlushDenormals {
 public:
  explicit ScopedFlushDenormals(int threads);
  ~ScopedFlushDenormals();
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

 private:
  int threads_;
};

// Sets the calling thread's OpenMP thread count for a scope, and puts the previous one back; every
// core entry point holds one, and with it the scope's floating-point mode (ScopedFlushDenormals,
// on the team of n). set() may lower the count within the scope, never raise it past n.
// Counts above one mark the process as having started OpenMP threads (see install_fork_handler).
class ScopedThreads {
 public:
  explicit ScopedThreads(int n);
  ~ScopedThreads();
  void set(int n);
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int previous_, current_;
  ScopedFlushDenormals flush_;
};

// Chooses, window by window of training steps, between all threads and one. Where another process
// keeps a core busy, every parallel region ends waiting for our descheduled helper thread, and one
// thread runs faster than two. It measures seconds per row and now and then tries the other count,
// less often while that keeps losing. The choice never changes results (see parallel_for).
class ThreadChooser {
 public:
  int next(int max) const;                    // the count for the next step: `max` or 1
  void record(int64_t rows, double seconds);  // what that step took

 private:
  // A measurement window: steps until they took 20 ms (at most 256): long enough to span several
  // scheduler slices where another process competes for a core, so one slice's luck does not
  // decide. Long steps (batch 2048 of a wide model: ~25 ms) make one-step windows, so a probe of
  // the other count costs one step, not an epoch's worth of a short fit.
  static constexpr int kMinWindow = 1, kMaxWindow = 256;
  static constexpr double kWindowSeconds = 0.02;
  static constexpr int kMinBackoff = 2, kMaxBackoff = 64;  // windows between tries of the other count
  bool one_ = false;      // the current choice: one thread, else all
  bool probing_ = false;  // this window tries the other choice
  bool won_once_ = false; // the last probe won: one window of the current choice, then a second probe
                          // must win too (a single slow window, one step long, is often noise)
  int steps_ = 0, windows_to_probe_ = kMinBackoff, backoff_ = kMinBackoff;
  int64_t rows_ = 0;
  double seconds_ = 0.0;
  double per_row_[2] = {0.0, 0.0};  // the latest seconds per row with all threads [0] and one [1]
};

}  // namespace fitcore
