#include "fitcore/ops/activation.hpp"

#include <algorithm>

namespace fitcore {

ActivationOp::ActivationOp(const OpSpec& spec, const GraphSpec& graph)
    : Op(spec, graph),
      activation_(parse_activation(spec.config.string("activation", "linear"))),
      cols_(graph.last_dim(spec.output)) {}

void ActivationOp::forward(Pass& p) {
  activation_forward(activation_, input(p), output_value(p), p.rows * output_width() / cols_, cols_);
}

void ActivationOp::backward(Pass& p) {
  if (grad_mode_[0] == GradMode::skip) return;
  const int64_t rows = p.rows * output_width() / cols_, n = rows * cols_;
  float* gy = output_grad(p);
  activation_backward(activation_, input(p), output_value(p), gy, rows, cols_);
  float* gx = input_grad(p);
  if (grad_mode_[0] == GradMode::write)
    std::copy(gy, gy + n, gx);
  else
    for (int64_t i = 0; i < n; ++i) gx[i] += gy[i];
}

}  // namespace fitcore
