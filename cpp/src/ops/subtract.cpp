#include "fitcore/ops/subtract.hpp"

#include <stdexcept>

namespace fitcore {

Subtract::Subtract(const OpSpec& spec, const GraphSpec& graph) : Op(spec, graph) {
  if (inputs_.size() != 2) throw std::invalid_argument("subtract: exactly two inputs");
  for (size_t i = 0; i < 2; ++i)
    if (input_width(i) != output_width()) throw std::invalid_argument("subtract: inputs of different shapes");
}

void Subtract::reserve(int64_t rows) { ensure_size(scratch_, rows * output_width()); }

void Subtract::forward(Pass& p) {
  const int64_t n = p.rows * output_width();
  const float *a = input(p, 0), *b = input(p, 1);
  float* y = output_value(p);
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t k = 0; k < n; ++k) y[k] = a[k] - b[k];
}

void Subtract::backward(Pass& p) {
  const int64_t n = p.rows * output_width();
  const float* gy = output_grad(p);
  send_grad(p, 0, gy);
  if (grad_mode_[1] == GradMode::skip) return;
  float* g = scratch_.data();
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t k = 0; k < n; ++k) g[k] = -gy[k];
  send_grad(p, 1, g);
}

}  // namespace fitcore
