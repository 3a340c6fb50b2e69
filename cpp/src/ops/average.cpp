#include "fitcore/ops/average.hpp"

#include <algorithm>
#include <stdexcept>

namespace fitcore {

Average::Average(const OpSpec& spec, const GraphSpec& graph) : Op(spec, graph) {
  for (size_t i = 0; i < inputs_.size(); ++i)
    if (input_width(i) != output_width()) throw std::invalid_argument("average: inputs of different shapes");
}

void Average::reserve(int64_t rows) { ensure_size(scratch_, rows * output_width()); }

void Average::forward(Pass& p) {
  const int64_t n = p.rows * output_width();
  const float inv = 1.0f / static_cast<float>(inputs_.size());
  float* y = output_value(p);
  const float* x0 = input(p, 0);
  std::copy(x0, x0 + n, y);
  for (size_t i = 1; i < inputs_.size(); ++i) {  // summed in input order, then scaled once
    const float* x = input(p, i);
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
    for (int64_t k = 0; k < n; ++k) y[k] += x[k];
  }
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t k = 0; k < n; ++k) y[k] *= inv;
}

void Average::backward(Pass& p) {
  const int64_t n = p.rows * output_width();
  const float inv = 1.0f / static_cast<float>(inputs_.size());
  const float* gy = output_grad(p);
  float* g = scratch_.data();
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t k = 0; k < n; ++k) g[k] = gy[k] * inv;
  for (size_t i = 0; i < inputs_.size(); ++i) send_grad(p, i, g);
}

}  // namespace fitcore
