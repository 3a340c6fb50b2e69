#include "fitcore/ops/batch_normalization.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "fitcore/collective.hpp"
#include "fitcore/parallel.hpp"

namespace fitcore {
namespace {

constexpr int64_t kStatRows = 256;  // rows per block of channel_sums (fixed: bits independent of threads)

// A data-parallel step's statistics are those of the whole batch: per-channel sums added over
// the processes, in place.
void sum_over_processes(const Pass& p, std::vector<double>& sums) {
  if (p.shard.collective != nullptr) p.shard.collective->sum(sums.data(), static_cast<int64_t>(sums.size()));
}

}  // namespace

void BatchNormalization::channel_sums(int64_t M, const float* a, const float* b, const float* shift,
                                      std::vector<double>& sum, std::vector<double>* sum_b) {
  const int64_t C = channels_, blocks = (M + kStatRows - 1) / kStatRows;
  const bool values = shift == nullptr;  // with a shift: the squared deviations alone
  partial_.assign(static_cast<size_t>(blocks * 2 * C), 0.0);
  parallel_for(blocks, M * C > kParallelGrain, [&](int64_t block) {
    double* s = partial_.data() + block * 2 * C;
    double* s2 = s + C;
    const int64_t first = block * kStatRows, last = std::min(M, first + kStatRows);
    // One loop per kind of sum, no branch inside: the channel loop vectorises.
    if (b != nullptr) {
      for (int64_t r = first; r < last; ++r)
        for (int64_t c = 0; c < C; ++c) {
          const double v = a[r * C + c];
          s[c] += v;
          s2[c] += v * b[r * C + c];
        }
    } else if (!values) {
      for (int64_t r = first; r < last; ++r)
        for (int64_t c = 0; c < C; ++c) {
          const double v = static_cast<double>(a[r * C + c]) - shift[c];
          s2[c] += v * v;
        }
    } else {
      for (int64_t r = first; r < last; ++r)
        for (int64_t c = 0; c < C; ++c) s[c] += a[r * C + c];
    }
  });
  if (values) std::fill(sum.begin(), sum.end(), 0.0);
  if (sum_b) std::fill(sum_b->begin(), sum_b->end(), 0.0);
  for (int64_t block = 0; block < blocks; ++block)
    for (int64_t c = 0; c < C; ++c) {
      if (values) sum[static_cast<size_t>(c)] += partial_[static_cast<size_t>(block * 2 * C + c)];
      if (sum_b) (*sum_b)[static_cast<size_t>(c)] += partial_[static_cast<size_t>(block * 2 * C + C + c)];
    }
}

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
    // Two passes, accumulated in double: the mean, then squared deviations from it.
    const int64_t batch_M = p.shard.batch_rows * output_width() / C;  // over every process's rows
    channel_sums(M, x, nullptr, nullptr, sum_, nullptr);
    sum_over_processes(p, sum_);
    for (int64_t c = 0; c < C; ++c)
      mean[static_cast<size_t>(c)] = static_cast<float>(sum_[static_cast<size_t>(c)] / batch_M);
    channel_sums(M, x, nullptr, mean.data(), sum_, &sum2_);
    sum_over_processes(p, sum2_);
    float* mm = state(p, moving_mean_);
    float* mv = state(p, moving_variance_);
    for (int64_t c = 0; c < C; ++c) {
      const auto k = static_cast<size_t>(c);
      const auto var = static_cast<float>(sum2_[k] / batch_M);
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
  // dbeta = sum gy, dgamma = sum gy * xhat, per channel: this process's rows (the step adds the
  // processes' gradients), then the whole batch's for the means below.
  channel_sums(M, gy, xhat, nullptr, sum_, &sum2_);
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
  if (batch) {
    sum_over_processes(p, sum_);
    sum_over_processes(p, sum2_);
  }
  const int64_t batch_M = p.shard.batch_rows * output_width() / C;
  std::vector<float> mean_g(static_cast<size_t>(C)), mean_gx(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    mean_g[static_cast<size_t>(c)] = batch ? static_cast<float>(sum_[static_cast<size_t>(c)] / batch_M) : 0.0f;
    mean_gx[static_cast<size_t>(c)] = batch ? static_cast<float>(sum2_[static_cast<size_t>(c)] / batch_M) : 0.0f;
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
