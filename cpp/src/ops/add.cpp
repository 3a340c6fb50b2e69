#include "fitcore/ops/add.hpp"

#include <algorithm>
#include <stdexcept>

namespace fitcore {

Add::Add(const OpSpec& spec, const GraphSpec& graph) : Op(spec, graph) {
  for (size_t i = 0; i < inputs_.size(); ++i)
    if (input_width(i) != output_width()) throw std::invalid_argument("add: inputs of different shapes");
}

void Add::forward(Pass& p) {
  const int64_t n = p.rows * output_width();
  float* y = output_value(p);
  const float* x0 = input(p, 0);
  std::copy(x0, x0 + n, y);
  for (size_t i = 1; i < inputs_.size(); ++i) {  // inputs in order: the same sum on any thread count
    const float* x = input(p, i);
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
    for (int64_t k = 0; k < n; ++k) y[k] += x[k];
  }
}

void Add::backward(Pass& p) {
  for (size_t i = 0; i < inputs_.size(); ++i) send_grad(p, i, output_grad(p));
}

}  // namespace fitcore
