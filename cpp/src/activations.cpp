#include "fitcore/activations.hpp"

#include <algorithm>
#include <stdexcept>

#include "fitcore/buffer.hpp"
#include "fitcore/kernels/vecmath.hpp"
#include "fitcore/parallel.hpp"

namespace fitcore {
namespace {

// Runs kernel(first, count) over n values in fixed chunks, so the bits never depend on the thread
// count: a ReLU's sweep is memory-bound (parallel_chunks), the others evaluate a transcendental or
// a division per value (parallel_compute_chunks: two threads from far fewer values).
template <class F>
void in_chunks(Activation a, int64_t n, F kernel) {
  const auto run = [&](int64_t lo, int64_t hi) { kernel(lo, hi - lo); };
  if (a == Activation::relu)
    parallel_chunks(n, run);
  else
    parallel_compute_chunks(n, run);
}

void softmax_rows(const float* z, float* y, int64_t rows, int64_t cols) {
  const kernels::VecMath& k = kernels::vecmath();
#pragma omp parallel for schedule(static) if (rows * cols > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) k.softmax_row(z + r * cols, y + r * cols, cols);
}

}  // namespace

Activation parse_activation(const std::string& name) {
  static const std::pair<const char*, Activation> kNames[] = {
      {"linear", Activation::linear}, {"relu", Activation::relu}, {"sigmoid", Activation::sigmoid},
      {"tanh", Activation::tanh},     {"softmax", Activation::softmax}, {"gelu", Activation::gelu},
      {"elu", Activation::elu},       {"silu", Activation::silu},   {"softplus", Activation::softplus}};
  for (const auto& [n, a] : kNames)
    if (name == n) return a;
  throw std::invalid_argument("unknown activation '" + name + "'");
}

bool activation_needs_input(Activation a) {
  return a == Activation::gelu || a == Activation::silu || a == Activation::softplus;
}

void activation_forward(Activation a, const float* z, float* y, int64_t rows, int64_t cols) {
  const int64_t n = rows * cols;
  if (a == Activation::linear) {
    if (y != z) std::copy(z, z + n, y);
    return;
  }
  if (a == Activation::softmax) return softmax_rows(z, y, rows, cols);
  const kernels::VecMath& k = kernels::vecmath();
  in_chunks(a, n, [&](int64_t lo, int64_t count) { k.activation_forward(a, z + lo, y + lo, count); });
}

void activation_backward(Activation a, const float* z, const float* y, float* g, int64_t rows, int64_t cols) {
  const int64_t n = rows * cols;
  if (a == Activation::linear) return;
  if (a == Activation::softmax) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const float* yr = y + r * cols;
      float* gr = g + r * cols;
      float dot = 0.0f;
      for (int64_t c = 0; c < cols; ++c) dot += gr[c] * yr[c];
      for (int64_t c = 0; c < cols; ++c) gr[c] = yr[c] * (gr[c] - dot);
    }
    return;
  }
  const kernels::VecMath& k = kernels::vecmath();
  // z is read only where activation_needs_input says (Dense keeps no pre-activation otherwise).
  in_chunks(a, n, [&](int64_t lo, int64_t count) {
    k.activation_backward(a, activation_needs_input(a) ? z + lo : nullptr, y + lo, g + lo, count);
  });
}

}  // namespace fitcore
