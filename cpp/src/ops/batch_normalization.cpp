#include "fitcore/ops/batch_normalization.hpp"

#include <cmath>
#include <stdexcept>

namespace fitcore {

BatchNormalization::BatchNormalization(const OpSpec& spec, const GraphSpec& graph)
    : Op(spec, graph),
      channels_(graph.last_dim(spec.output)),
      momentum_(static_cast<float>(spec.config.number("momentum"))),
      epsilon_(static_cast<float>(spec.config.number("epsilon"))),
      center_(spec.config.number("center", 1.0) != 0.0),
      scale_(spec.config.number("scale", 1.0) != 0.0),
      frozen_(spec.config.number("frozen", 0.0) != 0.0) {
  size_t next = 0;
  if (scale_) gamma_ = next++;
  if (center_) beta_ = next++;
  moving_mean_ = next++;
  moving_variance_ = next++;
  if (params_.size() != next) throw std::invalid_argument("batch_normalization: wrong number of weights");
  for (const ParamSpec& w : params_)
    if (w.size != channels_) throw std::invalid_argument("batch_normalization: weight size mismatch");
  inv_std_.resize(static_cast<size_t>(channels_));
  sum_.resize(static_cast<size_t>(channels_));
  sum2_.resize(static_cast<size_t>(channels_));
}

void BatchNormalization::reserve(int64_t rows) { ensure_size(xhat_, rows * output_width()); }

void BatchNormalization::forward(Pass& p) {
  const int64_t C = channels_, M = p.rows * output_width() / C;  // values per channel
  const float* x = input(p);
  float* y = output_value(p);
  float* xhat = xhat_.data();
  std::vector<float> mean(static_cast<size_t>(C));
  if (batch_statistics(p)) {
    // Two passes in row order, accumulated in double: exact enough and thread-count independent.
    std::fill(sum_.begin(), sum_.end(), 0.0);
    std::fill(sum2_.begin(), sum2_.end(), 0.0);
    for (int64_t r = 0; r < M; ++r)
      for (int64_t c = 0; c < C; ++c) sum_[static_cast<size_t>(c)] += x[r * C + c];
    for (int64_t c = 0; c < C; ++c) mean[static_cast<size_t>(c)] = static_cast<float>(sum_[static_cast<size_t>(c)] / M);
    for (int64_t r = 0; r < M; ++r)
      for (int64_t c = 0; c < C; ++c) {
        const double d = static_cast<double>(x[r * C + c]) - mean[static_cast<size_t>(c)];
        sum2_[static_cast<size_t>(c)] += d * d;
      }
    float* mm = state(p, moving_mean_);
    float* mv = state(p, moving_variance_);
    for (int64_t c = 0; c < C; ++c) {
      const auto k = static_cast<size_t>(c);
      const auto var = static_cast<float>(sum2_[k] / M);
      inv_std_[k] = 1.0f / std::sqrt(var + epsilon_);
      mm[c] = mm[c] * momentum_ + mean[k] * (1.0f - momentum_);
      mv[c] = mv[c] * momentum_ + var * (1.0f - momentum_);
    }
  } else {
    const float* mm = param(p, moving_mean_);
    const float* mv = param(p, moving_variance_);
    for (int64_t c = 0; c < C; ++c) {
      mean[static_cast<size_t>(c)] = mm[c];
      inv_std_[static_cast<size_t>(c)] = 1.0f / std::sqrt(mv[c] + epsilon_);
    }
  }
  const float* gamma = scale_ ? param(p, gamma_) : nullptr;
  const float* beta = center_ ? param(p, beta_) : nullptr;
#pragma omp parallel for schedule(static) if (M * C > kParallelGrain)
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t i = r * C + c;
      xhat[i] = (x[i] - mean[static_cast<size_t>(c)]) * inv_std_[static_cast<size_t>(c)];
      y[i] = (gamma ? gamma[c] * xhat[i] : xhat[i]) + (beta ? beta[c] : 0.0f);
    }
}

void BatchNormalization::backward(Pass& p) {
  const int64_t C = channels_, M = p.rows * output_width() / C;
  float* gy = output_grad(p);  // only this op reads it: becomes dL/dx in place
  const float* xhat = xhat_.data();
  // dbeta = sum gy, dgamma = sum gy * xhat, per channel in row order.
  std::fill(sum_.begin(), sum_.end(), 0.0);
  std::fill(sum2_.begin(), sum2_.end(), 0.0);
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < C; ++c) {
      sum_[static_cast<size_t>(c)] += gy[r * C + c];
      sum2_[static_cast<size_t>(c)] += static_cast<double>(gy[r * C + c]) * xhat[r * C + c];
    }
  if (!frozen_) {
    if (scale_) {
      float* g = param_grad(p, gamma_);
      for (int64_t c = 0; c < C; ++c) g[c] = static_cast<float>(sum2_[static_cast<size_t>(c)]);
    }
    if (center_) {
      float* g = param_grad(p, beta_);
      for (int64_t c = 0; c < C; ++c) g[c] = static_cast<float>(sum_[static_cast<size_t>(c)]);
    }
  }
  if (grad_mode_[0] == GradMode::skip) return;
  const float* gamma = scale_ ? param(p, gamma_) : nullptr;
  const bool batch = !frozen_;  // backward runs in training: batch statistics unless frozen
  std::vector<float> mean_g(static_cast<size_t>(C)), mean_gx(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    mean_g[static_cast<size_t>(c)] = batch ? static_cast<float>(sum_[static_cast<size_t>(c)] / M) : 0.0f;
    mean_gx[static_cast<size_t>(c)] = batch ? static_cast<float>(sum2_[static_cast<size_t>(c)] / M) : 0.0f;
  }
  // dx = gamma * inv_std * (gy - mean(gy) - xhat * mean(gy * xhat)); the means vanish when the
  // statistics are constants (frozen layer).
#pragma omp parallel for schedule(static) if (M * C > kParallelGrain)
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t i = r * C + c;
      const auto k = static_cast<size_t>(c);
      const float s = (gamma ? gamma[c] : 1.0f) * inv_std_[k];
      gy[i] = s * (gy[i] - mean_g[k] - xhat[i] * mean_gx[k]);
    }
  send_grad(p, 0, gy);
}

}  // namespace fitcore
