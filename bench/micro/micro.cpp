// C++ micro-benchmarks of the core's hot paths at the reference workload's shapes (BENCHMARKS.md).
// A tiny harness of our own: each case runs for ~0.2 s, five times; the median rate is printed.
// Build and run: tools/micro-bench (CMake option FITCORE_BENCHMARKS).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <ctime>
#include <string>
#include <vector>

#include "fitcore/activations.hpp"
#include "fitcore/data.hpp"
#include "fitcore/gemm.hpp"
#include "fitcore/kernels/isa.hpp"
#include "fitcore/losses.hpp"
#include "fitcore/network.hpp"
#include "fitcore/optimizer.hpp"
#include "fitcore/parallel.hpp"
#include "fitcore/random.hpp"

using namespace fitcore;

namespace {

// Wall-clock seconds, or with FITCORE_MICRO_CPU_TIME=1 the process's CPU seconds: on a loaded
// machine a one-thread run's CPU time still shows what the code costs.
double now() {
  static const bool cpu = std::getenv("FITCORE_MICRO_CPU_TIME") && std::string(std::getenv("FITCORE_MICRO_CPU_TIME")) == "1";
  if (cpu) {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Seconds per call of f: the median of 5 runs, each repeating f for about 0.2 s.
double seconds_per_call(const std::function<void()>& f) {
  f();  // warm caches and lazily sized buffers
  std::vector<double> runs;
  for (int r = 0; r < 5; ++r) {
    int64_t calls = 0;
    const double start = now();
    double elapsed = 0.0;
    do {
      f();
      ++calls;
      elapsed = now() - start;
    } while (elapsed < 0.2);
    runs.push_back(elapsed / static_cast<double>(calls));
  }
  std::sort(runs.begin(), runs.end());
  return runs[2];
}

void report(const std::string& name, double seconds, double amount, const char* unit, const std::string& note = "") {
  std::printf("%-48s %10.2f us  %9.2f %s%s\n", name.c_str(), seconds * 1e6, amount / seconds * 1e-9, unit,
              note.c_str());
}

Buffer random_buffer(int64_t n, uint64_t key, float scale = 1.0f) {
  Buffer b(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) b[static_cast<size_t>(i)] = scale * (uniform01(key, static_cast<uint64_t>(i)) - 0.5f);
  return b;
}

// The reference MLP, 784 -> 256 relu -> 256 relu -> 10 softmax, lowered as compile() would.
GraphSpec reference_mlp() {
  GraphSpec g;
  g.slot_shapes = {{784}, {256}, {256}, {10}};
  g.inputs = {0};
  g.outputs = {3};
  const int64_t widths[] = {784, 256, 256, 10};
  const char* activations[] = {"relu", "relu", "softmax"};
  int64_t offset = 0;
  for (int l = 0; l < 3; ++l) {
    OpSpec op;
    op.kind = "dense";
    op.inputs = {l};
    op.output = l + 1;
    op.config.strings["activation"] = activations[l];
    op.params = {{offset, widths[l] * widths[l + 1]}, {offset + widths[l] * widths[l + 1], widths[l + 1]}};
    offset += widths[l] * widths[l + 1] + widths[l + 1];
    g.ops.push_back(op);
  }
  g.num_params = g.num_trainable = offset;
  return g;
}

void bench_gather() {
  const int64_t rows = 30000, width = 784;
  Buffer data = random_buffer(rows * width, 1);
  std::vector<int64_t> order;
  random_permutation(7, rows, order);
  ArrayRef src{data.data(), rows, width};
  for (int64_t batch : {32, 256}) {
    Buffer dst(static_cast<size_t>(batch * width));
    int64_t first = 0;
    const double s = seconds_per_call([&] {
      gather_rows(src, order.data(), first, batch, dst.data());
      first = (first + batch) % (rows - batch);
    });
    report("gather " + std::to_string(batch) + " shuffled rows of 784", s, 2.0 * batch * width * 4, "GB/s",
           "  (read + write)");
  }
}

void bench_dense() {
  Network net(reference_mlp());
  Buffer init = random_buffer(net.num_params(), 2, 0.1f);
  std::copy(init.begin(), init.end(), net.params());
  Buffer grads(static_cast<size_t>(net.num_params()));
  const double flop_per_sample = 1211392.0;
  for (int64_t batch : {32, 256, 2048}) {
    net.reserve(batch);
    Buffer x = random_buffer(batch * 784, 3);
    Buffer gy = random_buffer(batch * 10, 4, 0.01f);
    const double s = seconds_per_call([&] {
      std::copy(x.begin(), x.end(), net.input_buffer(0));
      net.forward(batch, true, 0);
      std::copy(gy.begin(), gy.end(), net.output_grad(0));
      net.backward(batch, 0, grads.data());
    });
    report("MLP forward+backward, batch " + std::to_string(batch), s, flop_per_sample * batch, "GFLOP/s",
           "  (useful FLOP)");
  }
}

void bench_loss() {
  for (int64_t batch : {32, 256}) {
    const int64_t classes = 10;
    Buffer pred = random_buffer(batch * classes, 5);
    for (auto& p : pred) p = p + 0.6f;  // positive, like softmax outputs
    Buffer weight(static_cast<size_t>(batch)), losses(static_cast<size_t>(batch)),
        grad(static_cast<size_t>(batch * classes));
    std::vector<int64_t> labels(static_cast<size_t>(batch));  // sparse losses read class ids (int64)
    for (int64_t i = 0; i < batch; ++i) {
      labels[static_cast<size_t>(i)] = i % classes;
      weight[static_cast<size_t>(i)] = 0.5f + static_cast<float>(i % 3);
    }
    auto loss = make_loss("sparse_categorical_crossentropy", Config{});
    double sink = 0.0;
    const double s = seconds_per_call([&] {
      LossArgs a;
      a.pred = pred.data();
      a.labels = labels.data();
      a.weight = weight.data();
      a.elements = batch;
      a.dim = classes;
      a.target_dim = 1;
      a.losses = losses.data();
      a.grad = grad.data();
      a.grad_scale = 1.0f / static_cast<float>(batch);
      loss->compute(a);
      double sum = 0.0;
      for (float l : losses) sum += l;
      sink += sum;
    });
    report("weighted sparse CCE + reduction, batch " + std::to_string(batch), s, 1e3 * static_cast<double>(batch),
           "M samples/s");
    if (sink == 42.0) std::puts("");
  }
}

void bench_optimizers() {
  const int64_t n = 10'000'000;
  Buffer w = random_buffer(n, 6), g = random_buffer(n, 7, 1e-3f), src = random_buffer(n, 8), dst(static_cast<size_t>(n));
  // The yardstick: the same thread pool copying n floats in fixed chunks (read n + write n).
  const double copy = seconds_per_call([&] {
    parallel_chunks(n, [&](int64_t lo, int64_t hi) {
      std::memcpy(dst.data() + lo, src.data() + lo, static_cast<size_t>(hi - lo) * sizeof(float));
    });
  });
  const double copy_rate = 2.0 * n * 4 / copy;
  report("copy 10M floats (memcpy)", copy, 2.0 * n * 4, "GB/s");
  struct Case { const char* label; const char* name; Config config; int streams; };  // streams: arrays read + written
  Config sgd_m, adam, rmsprop, rmsprop_mc, adagrad, sgd_clipnorm, sgd_clipvalue;
  sgd_m.numbers["momentum"] = 0.9;
  rmsprop_mc.numbers["momentum"] = 0.9;
  rmsprop_mc.numbers["centered"] = 1.0;
  sgd_clipnorm.numbers["global_clipnorm"] = 1e-6;  // always clips: a norm pass, then a scaling pass
  sgd_clipvalue.numbers["clipvalue"] = 1e-4;
  const Case cases[] = {{"sgd", "sgd", Config{}, 3}, {"sgd (momentum)", "sgd", sgd_m, 5}, {"adam", "adam", adam, 7},
                        {"rmsprop", "rmsprop", rmsprop, 5}, {"rmsprop (centered, momentum)", "rmsprop", rmsprop_mc, 9},
                        {"adagrad", "adagrad", adagrad, 5}};
  // `apply` = clip, then update (Optimizer::apply); otherwise the update alone.
  auto measure = [&](const Case& c, bool apply, const std::string& label) {
    auto opt = make_optimizer(c.name, c.config, n);
    int64_t step = 0;
    const double s = seconds_per_call([&] {
      if (apply)
        opt->apply(w.data(), g.data(), n, 1e-3f, ++step);
      else
        opt->update(w.data(), g.data(), n, 1e-3f, ++step);
    });
    const double bytes = static_cast<double>(c.streams) * n * 4;
    char note[64];
    std::snprintf(note, sizeof note, "  %3.0f %% of copy", 100.0 * bytes / s / copy_rate);
    report(label, s, bytes, "GB/s", note);
  };
  for (const Case& c : cases) measure(c, false, std::string(c.label) + " update, 10M params");
  // Gradient clipping alone: sgd's apply minus its update.
  const Case clips[] = {{"global_clipnorm", "sgd", sgd_clipnorm, 3 + 1 + 2}, {"clipvalue", "sgd", sgd_clipvalue, 3 + 2}};
  for (const Case& c : clips) measure(c, true, std::string("sgd + ") + c.label + " apply, 10M params");
  // The reference MLP's 269,322 parameters: every array in L2/L3, so the arithmetic shows (Adam's
  // square root and division a value) where 10M parameters only show the memory.
  const int64_t small = 269'322;
  for (const char* name : {"sgd", "adam"}) {
    auto opt = make_optimizer(name, Config{}, small);
    int64_t step = 0;
    const double sec = seconds_per_call([&] { opt->update(w.data(), g.data(), small, 1e-3f, ++step); });
    report(std::string(name) + " update, 269k params (the reference MLP)", sec, static_cast<double>(small),
           "G params/s");
  }
}

// The random layers' training forward passes over a batch of 1024-wide rows: GaussianNoise (one
// normal draw, a log, a cos and two hashes, per value), and Dropout (its mask drawn, applied, and
// stored for the backward pass).
void bench_noise() {
  const int64_t width = 1024;
  for (const char* kind : {"gaussian_noise", "dropout"}) {
    GraphSpec g;
    g.slot_shapes = {{width}, {width}};
    g.inputs = {0};
    g.outputs = {1};
    OpSpec op;
    op.kind = kind;
    op.inputs = {0};
    op.output = 1;
    if (op.kind == "dropout")
      op.config.numbers["rate"] = 0.2;
    else
      op.config.numbers["stddev"] = 0.1;
    g.ops.push_back(op);
    Network net(g);
    for (int64_t batch : {32, 256, 2048}) {
      net.reserve(batch);
      Buffer x = random_buffer(batch * width, 9);
      std::copy(x.begin(), x.end(), net.input_buffer(0));
      uint64_t key = 0;
      const double s = seconds_per_call([&] { net.forward(batch, true, ++key); });
      report(std::string(op.kind == "dropout" ? "Dropout" : "GaussianNoise") + " forward, " + std::to_string(batch) +
                 " x 1024",
             s, 1e3 * static_cast<double>(batch * width), "M values/s");
    }
  }
}

// Activations over a Dense layer's output, 256 x 1024 standard-normal pre-activations (about what
// a glorot-initialised layer sees): forward y = f(z), backward g *= f'(z).
void bench_activations() {
  const int64_t rows = 256, cols = 1024, n = rows * cols;
  Buffer z(static_cast<size_t>(n)), y(static_cast<size_t>(n)), g(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) z[static_cast<size_t>(i)] = standard_normal(11, static_cast<uint64_t>(i));
  for (const char* name : {"relu", "sigmoid", "tanh", "gelu", "silu", "elu", "softplus"}) {
    const Activation a = parse_activation(name);
    const double forward = seconds_per_call([&] { activation_forward(a, z.data(), y.data(), rows, cols); });
    report(std::string(name) + " forward, 256 x 1024", forward, 1e3 * static_cast<double>(n), "M values/s");
    const double backward = seconds_per_call([&] {
      std::fill(g.begin(), g.end(), 1.0f);
      activation_backward(a, z.data(), y.data(), g.data(), rows, cols);
    });
    report(std::string(name) + " backward (with a refill of g), 256 x 1024", backward, 1e3 * static_cast<double>(n),
           "M values/s");
  }
}

// --- GEMM per instruction-set level, beside the FMA peak --------------------------------------

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
// The FMA peak: 12 independent multiply-add chains per thread (enough to cover the FMA latency
// on every current x86 core), each thread on its own registers; FLOP per call returned.
__attribute__((target("avx2,fma"))) float fma_loop_256(int64_t iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(0.001f * static_cast<float>(i));
  const __m256 x = _mm256_set1_ps(0.999f), y = _mm256_set1_ps(1e-4f);
  for (int64_t t = 0; t < iters; ++t)
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  return _mm256_cvtss_f32(s);
}

__attribute__((target("avx512f"))) float fma_loop_512(int64_t iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1e-4f);
  for (int64_t t = 0; t < iters; ++t)
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, acc[i]);  // every chain feeds the result: none is dropped
  return _mm512_reduce_add_ps(s);
}
#endif

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

// GFLOP/s of an FMA loop at one register width on `threads` threads (each thread its own loop).
double fma_peak(int bits, int threads) {
  const int64_t iters = 1 << 16;
  float sink = 0.0f;
  const double s = seconds_per_call([&] {
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    {
#if defined(__x86_64__) && defined(__GNUC__)
      sink += bits == 512 ? fma_loop_512(iters) : fma_loop_256(iters);
#endif
    }
  });
  if (sink == 42.0f) std::puts("");
  return 2.0 * 12 * (bits / 32) * static_cast<double>(iters) * threads / s * 1e-9;
}

// C (m x n) = A (m x k) B (k x n) split into column blocks as Dense splits its outputs, the blocks
// on the core's threads.
// `layout`: 'f' C = A B (Dense's forward), 'w' C = A^T B with A stored k x m (its weight gradient,
// x^T dz), 'W' the same from a row-major copy of A's transpose made first (timed: what Dense does
// at 1024 input features), 'x' C = A B^T with B stored n x k (its input gradient, dz W^T).
double gemm_rate(int64_t m, int64_t n, int64_t k, char layout = 'f') {
  Buffer a = random_buffer(m * k, 11), b = random_buffer(k * n, 12), c(static_cast<size_t>(m * n));
  Buffer a_copy(static_cast<size_t>(layout == 'W' ? m * k : 0));
  const StridedMatrix av = layout == 'w'   ? StridedMatrix{a.data(), 1, m}
                           : layout == 'W' ? StridedMatrix{a_copy.data(), k, 1}
                                           : StridedMatrix{a.data(), k, 1};
  const int64_t block = std::getenv("FITCORE_MICRO_GEMM_BLOCK") ? std::atoll(std::getenv("FITCORE_MICRO_GEMM_BLOCK")) : (n >= 1024 ? 128 : 64);
  const int64_t blocks = (n + block - 1) / block;
  const double s = seconds_per_call([&] {
    if (layout == 'W')
      parallel_for((m + 63) / 64, true, [&](int64_t t) {
        const int64_t r0 = t * 64;
        transpose(k, std::min<int64_t>(64, m - r0), a.data() + r0, m, a_copy.data() + r0 * k, k);
      });
    parallel_for(blocks, true, [&](int64_t j) {
      const int64_t c0 = j * block, nc = std::min(block, n - c0);
      const StridedMatrix bv = layout == 'x' ? StridedMatrix{b.data() + c0 * k, 1, k} : StridedMatrix{b.data() + c0, n, 1};
      gemm(m, nc, k, av, bv, c.data() + c0, n, false);
    });
  });
  return 2.0 * static_cast<double>(m) * n * k / s * 1e-9;
}

void bench_gemm() {
  using kernels::Isa;
  const int threads = omp_get_max_threads();
  const Isa widest = kernels::supported_isa();
  std::printf("CPU: %s; widest instruction set: %s\n", cpu_model().c_str(), kernels::isa_name(widest));
  const double peak256 = widest >= Isa::avx2 ? fma_peak(256, threads) : 0.0;
  const double peak512 = widest >= Isa::avx512 ? fma_peak(512, threads) : 0.0;
  std::printf("FMA peak, %d thread(s): 256-bit %.1f GFLOP/s", threads, peak256);
  if (peak512 > 0)
    std::printf(", 512-bit %.1f GFLOP/s\n", peak512);
  else
    std::printf(", 512-bit n/a (no AVX-512)\n");
  const double peak = peak512 > 0 ? peak512 : peak256;
  struct Shape { int64_t m, n, k; const char* label; char layout = 'f'; };
  const Shape shapes[] = {{32, 256, 784, "reference layer 1, batch 32"},  {256, 256, 784, "reference layer 1, batch 256"},
                          {256, 256, 256, "reference layer 2, batch 256"}, {2048, 256, 256, "256-wide, batch 2048"},
                          {256, 256, 2048, "256-wide, batch 2048, x^T dz", 'w'},
                          {2048, 1, 256, "one unit, batch 2048"},
                          {256, 1, 2048, "one unit, batch 2048, x^T dz", 'w'},
                          {2048, 1024, 1024, "1024-wide, batch 2048"},
                          {1024, 1024, 2048, "1024-wide, batch 2048, x^T dz", 'w'},
                          {1024, 1024, 2048, "the same, x^T copied first", 'W'},
                          {2048, 1024, 1024, "1024-wide, batch 2048, dz W^T", 'x'},
                          {2048, 2048, 2048, "2048-wide, batch 2048"},
                          {2048, 4096, 4096, "4096-wide, batch 2048"}};
  const char* only_shape = std::getenv("FITCORE_MICRO_GEMM_MAX");  // e.g. 1024: skip wider shapes
  const int64_t max_width = only_shape ? std::atoll(only_shape) : 4096;
  std::printf("%-32s %-20s", "GEMM (m x k) @ (k x n)", "shape");
  for (int level = 0; level <= static_cast<int>(widest); ++level) std::printf(" %9s", kernels::isa_name(static_cast<Isa>(level)));
  std::printf("  GFLOP/s; widest at %% of FMA peak\n");
  for (const Shape& sh : shapes) {
    if (sh.n > max_width) continue;
    char dims[32];
    std::snprintf(dims, sizeof dims, "%ldx%ldx%ld", static_cast<long>(sh.m), static_cast<long>(sh.k),
                  static_cast<long>(sh.n));
    std::printf("%-32s %-20s", sh.label, dims);
    double rate = 0.0;
    for (int level = 0; level <= static_cast<int>(widest); ++level) {
      kernels::set_isa_limit(static_cast<Isa>(level));
      rate = gemm_rate(sh.m, sh.n, sh.k, sh.layout);
      std::printf(" %9.1f", rate);
      std::fflush(stdout);
    }
    std::printf("  %5.0f %%\n", peak > 0 ? 100.0 * rate / peak : 0.0);
  }
  kernels::set_isa_limit(widest);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  set_num_threads(num_threads());  // as the Python module does at import
  // FITCORE_ISA caps the kernels' level as it does for the Python module (the gemm case runs every level).
  if (const char* isa = std::getenv("FITCORE_ISA"))
    for (auto level : {kernels::Isa::baseline, kernels::Isa::avx2, kernels::Isa::avx512})
      if (std::string(isa) == kernels::isa_name(level)) kernels::set_isa_limit(level);
  std::printf("fitcore micro-benchmarks, %d thread(s) (OMP_NUM_THREADS), kernels at %s\n", omp_get_max_threads(),
              kernels::isa_name(kernels::active_isa()));
  if (only.empty() || only == "gather") bench_gather();
  if (only.empty() || only == "gemm") bench_gemm();
  if (only.empty() || only == "dense") bench_dense();
  if (only.empty() || only == "loss") bench_loss();
  if (only.empty() || only == "optimizer") bench_optimizers();
  if (only.empty() || only == "noise") bench_noise();
  if (only.empty() || only == "activation") bench_activations();
  return 0;
}
