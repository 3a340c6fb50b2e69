#include "fitcore/ops/rescaling.hpp"

#include <stdexcept>

namespace fitcore {

Rescaling::Rescaling(const OpSpec& spec, const GraphSpec& graph)
    : Op(spec, graph),
      scale_(static_cast<float>(spec.config.number("scale"))),
      offset_(static_cast<float>(spec.config.number("offset", 0.0))) {
  if (inputs_.size() != 1 || input_width() != output_width()) throw std::invalid_argument("rescaling: one input");
}

void Rescaling::forward(Pass& p) {
  const int64_t n = p.rows * output_width();
  const float* x = input(p);
  float* y = output_value(p);
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t k = 0; k < n; ++k) y[k] = x[k] * scale_ + offset_;
}

void Rescaling::backward(Pass& p) {
  if (grad_mode_[0] == GradMode::skip) return;
  const int64_t n = p.rows * output_width();
  float* gy = output_grad(p);  // ours alone to overwrite (op.hpp)
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t k = 0; k < n; ++k) gy[k] *= scale_;
  send_grad(p, 0, gy);
}

}  // namespace fitcore
