// Dense: y = f(x W + b) over the last axis; leading axes (batch, timesteps) become rows.
#include "fitcore/ops/dense.hpp"

#include <stdexcept>

namespace fitcore {

Dense::Dense(const OpSpec& spec, const GraphSpec& graph)
    : Op(spec, graph),
      units_(graph.last_dim(spec.output)),
      in_features_(graph.last_dim(spec.inputs.at(0))),
      activation_(parse_activation(spec.config.string("activation", "linear"))),
      use_bias_(spec.config.number("use_bias", 1.0) != 0.0) {
  if (params_.size() != (use_bias_ ? 2u : 1u)) throw std::invalid_argument("dense: wrong number of weights");
  if (params_[0].size != in_features_ * units_) throw std::invalid_argument("dense: kernel size mismatch");
  if (use_bias_ && params_[1].size != units_) throw std::invalid_argument("dense: bias size mismatch");
}

void Dense::reserve(int64_t rows) {
  if (activation_needs_input(activation_)) ensure_size(preactivation_, rows * output_width());
}

void Dense::forward(Pass& p) {
  const int64_t rows = p.rows * (input_width() / in_features_);
  ConstMatrixMap x(input(p), rows, in_features_);
  ConstMatrixMap w(param(p, 0), in_features_, units_);
  float* y = output_value(p);
  float* z = activation_needs_input(activation_) ? preactivation_.data() : y;
  MatrixMap zm(z, rows, units_);
  zm.noalias() = x * w;
  if (use_bias_) zm.rowwise() += ConstRowVectorMap(param(p, 1), units_);
  activation_forward(activation_, z, y, rows, units_);
}

void Dense::backward(Pass& p) {
  const int64_t rows = p.rows * (input_width() / in_features_);
  float* gy = output_grad(p);  // becomes dL/dz in place: only this op reads it
  activation_backward(activation_, preactivation_.data(), output_value(p), gy, rows, units_);
  ConstMatrixMap gz(gy, rows, units_);
  ConstMatrixMap x(input(p), rows, in_features_);
  MatrixMap(param_grad(p, 0), in_features_, units_).noalias() = x.transpose() * gz;
  if (use_bias_) RowVectorMap(param_grad(p, 1), units_) = gz.colwise().sum();
  if (grad_mode_[0] == GradMode::skip) return;
  ConstMatrixMap w(param(p, 0), in_features_, units_);
  MatrixMap gx(input_grad(p), rows, in_features_);
  if (grad_mode_[0] == GradMode::write)
    gx.noalias() = gz * w.transpose();
  else
    gx.noalias() += gz * w.transpose();
}

}  // namespace fitcore
