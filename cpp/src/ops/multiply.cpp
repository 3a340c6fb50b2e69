#include "fitcore/ops/multiply.hpp"

#include <algorithm>
#include <stdexcept>

namespace fitcore {

Multiply::Multiply(const OpSpec& spec, const GraphSpec& graph) : Op(spec, graph) {
  for (size_t i = 0; i < inputs_.size(); ++i)
    if (input_width(i) != output_width()) throw std::invalid_argument("multiply: inputs of different shapes");
}

void Multiply::reserve(int64_t rows) { ensure_size(scratch_, rows * output_width()); }

void Multiply::forward(Pass& p) {
  const int64_t n = p.rows * output_width();
  float* y = output_value(p);
  const float* x0 = input(p, 0);
  std::copy(x0, x0 + n, y);
  for (size_t i = 1; i < inputs_.size(); ++i) {  // multiplied in input order on any thread count
    const float* x = input(p, i);
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
    for (int64_t k = 0; k < n; ++k) y[k] *= x[k];
  }
}

void Multiply::backward(Pass& p) {
  const int64_t n = p.rows * output_width();
  const float* gy = output_grad(p);
  float* g = scratch_.data();
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (grad_mode_[i] == GradMode::skip) continue;
    // The product of the other inputs (not y / x_i, which fails where x_i is zero).
    std::copy(gy, gy + n, g);
    for (size_t j = 0; j < inputs_.size(); ++j) {
      if (j == i) continue;
      const float* x = input(p, j);
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
      for (int64_t k = 0; k < n; ++k) g[k] *= x[k];
    }
    send_grad(p, i, g);
  }
}

}  // namespace fitcore
