#include "fitcore/ops/minimum.hpp"

#include <algorithm>
#include <stdexcept>

namespace fitcore {

Minimum::Minimum(const OpSpec& spec, const GraphSpec& graph) : Op(spec, graph) {
  for (size_t i = 0; i < inputs_.size(); ++i)
    if (input_width(i) != output_width()) throw std::invalid_argument("minimum: inputs of different shapes");
}

void Minimum::reserve(int64_t rows) { ensure_size(scratch_, rows * output_width()); }

void Minimum::forward(Pass& p) {
  const int64_t n = p.rows * output_width();
  float* y = output_value(p);
  const float* x0 = input(p, 0);
  std::copy(x0, x0 + n, y);
  for (size_t i = 1; i < inputs_.size(); ++i) {
    const float* x = input(p, i);
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
    for (int64_t k = 0; k < n; ++k) y[k] = x[k] < y[k] ? x[k] : y[k];
  }
}

void Minimum::backward(Pass& p) {
  const int64_t n = p.rows * output_width();
  const float* gy = output_grad(p);
  const float* y = output_value(p);
  float* g = scratch_.data();
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (grad_mode_[i] == GradMode::skip) continue;
    const float* x = input(p, i);
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
    for (int64_t k = 0; k < n; ++k) {
      // The first input equal to the min takes the gradient: no earlier input holds y[k].
      bool first = x[k] == y[k];
      for (size_t j = 0; first && j < i; ++j) first = input(p, j)[k] != y[k];
      g[k] = first ? gy[k] : 0.0f;
    }
    send_grad(p, i, g);
  }
}

}  // namespace fitcore
