#include "fitcore/ops/embedding.hpp"

#include <algorithm>
#include <stdexcept>

namespace fitcore {

Embedding::Embedding(const OpSpec& spec, const GraphSpec& graph)
    : Op(spec, graph),
      input_dim_(static_cast<int64_t>(spec.config.number("input_dim"))),
      output_dim_(graph.last_dim(spec.output)) {
  if (params_.size() != 1 || params_[0].size != input_dim_ * output_dim_)
    throw std::invalid_argument("embedding: table size mismatch");
  if (input_width() * output_dim_ != output_width()) throw std::invalid_argument("embedding: shape mismatch");
}

void Embedding::forward(Pass& p) {
  const int64_t n = p.rows * input_width(), D = output_dim_;
  const float* ids = input(p);
  const float* table = param(p, 0);
  float* y = output_value(p);
#pragma omp parallel for schedule(static) if (n * D > kParallelGrain)
  for (int64_t k = 0; k < n; ++k) {
    const int64_t row = row_of(ids[k]);
    if (row < 0)
      std::fill(y + k * D, y + (k + 1) * D, 0.0f);
    else
      std::copy(table + row * D, table + (row + 1) * D, y + k * D);
  }
}

void Embedding::backward(Pass& p) {
  const int64_t n = p.rows * input_width(), D = output_dim_;
  const float* ids = input(p);
  const float* gy = output_grad(p);
  float* g = param_grad(p, 0);
  std::fill(g, g + input_dim_ * D, 0.0f);
  // Scatter-add in id order on one thread: repeated ids always sum in the same order.
  for (int64_t k = 0; k < n; ++k) {
    const int64_t row = row_of(ids[k]);
    if (row < 0) continue;
    float* gr = g + row * D;
    const float* gk = gy + k * D;
    for (int64_t d = 0; d < D; ++d) gr[d] += gk[d];
  }
}

}  // namespace fitcore
