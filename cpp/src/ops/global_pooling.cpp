// GlobalPooling: max / average over all positions (see global_pooling.hpp).
#include "fitcore/ops/global_pooling.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "fitcore/parallel.hpp"

namespace fitcore {

GlobalPooling::GlobalPooling(const OpSpec& spec, const GraphSpec& graph)
    : Op(spec, graph), channels_(graph.last_dim(spec.inputs.at(0))) {
  const std::string mode = spec.config.string("mode");
  if (mode != "max" && mode != "average") throw std::invalid_argument("global_pooling: mode must be max or average");
  max_ = mode == "max";
  if (output_width() != channels_ || channels_ < 1 || input_width() % channels_ != 0)
    throw std::invalid_argument("global_pooling: shape mismatch");
  positions_ = input_width() / channels_;
  if (positions_ > std::numeric_limits<int32_t>::max()) throw std::invalid_argument("global_pooling: input too large");
}

void GlobalPooling::reserve(int64_t rows) {
  if (max_ && static_cast<int64_t>(argmax_.size()) < rows * channels_)
    argmax_.resize(static_cast<size_t>(rows * channels_));
}

void GlobalPooling::forward(Pass& p) {
  const int64_t C = channels_, P = positions_, per_task = samples_per_task(P * C);
  const float* x = input(p);
  float* y = output_value(p);
  parallel_for((p.rows + per_task - 1) / per_task, p.rows * P * C > kParallelGrain, [&](int64_t t) {
    for (int64_t n = t * per_task; n < std::min(p.rows, (t + 1) * per_task); ++n) {
      const float* xn = x + n * P * C;
      float* yn = y + n * C;
      if (max_) {
        int32_t* idx = argmax_.data() + n * C;
        for (int64_t c = 0; c < C; ++c) yn[c] = xn[c], idx[c] = 0;
        for (int64_t q = 1; q < P; ++q)
          for (int64_t c = 0; c < C; ++c)
            if (xn[q * C + c] > yn[c]) yn[c] = xn[q * C + c], idx[c] = static_cast<int32_t>(q);
      } else {
        std::fill(yn, yn + C, 0.0f);
        for (int64_t q = 0; q < P; ++q)
#pragma omp simd
          for (int64_t c = 0; c < C; ++c) yn[c] += xn[q * C + c];
        const float inv = 1.0f / static_cast<float>(P);
        for (int64_t c = 0; c < C; ++c) yn[c] *= inv;
      }
    }
  });
}

void GlobalPooling::backward(Pass& p) {
  if (grad_mode_[0] == GradMode::skip) return;
  const int64_t C = channels_, P = positions_, per_task = samples_per_task(P * C);
  const float* gy = output_grad(p);
  float* gx = input_grad(p);
  const bool overwrite = grad_mode_[0] == GradMode::write;
  parallel_for((p.rows + per_task - 1) / per_task, p.rows * P * C > kParallelGrain, [&](int64_t t) {
    for (int64_t n = t * per_task; n < std::min(p.rows, (t + 1) * per_task); ++n) {
      float* gn = gx + n * P * C;
      const float* gyn = gy + n * C;
      if (max_) {
        if (overwrite) std::fill(gn, gn + P * C, 0.0f);
        const int32_t* idx = argmax_.data() + n * C;
        for (int64_t c = 0; c < C; ++c) gn[idx[c] * C + c] += gyn[c];
        continue;
      }
      const float inv = 1.0f / static_cast<float>(P);
      for (int64_t q = 0; q < P; ++q)
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) gn[q * C + c] = (overwrite ? 0.0f : gn[q * C + c]) + gyn[c] * inv;
    }
  });
}

}  // namespace fitcore
