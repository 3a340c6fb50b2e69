// ZeroPadding: the input copied into the interior of a zeroed output (see zero_padding.hpp).
#include "fitcore/ops/zero_padding.hpp"

#include <algorithm>
#include <stdexcept>

#include "fitcore/parallel.hpp"

namespace fitcore {

ZeroPadding::ZeroPadding(const OpSpec& spec, const GraphSpec& graph)
    : Op(spec, graph),
      in_(feature_map(graph, spec.inputs.at(0), "zero_padding")),
      out_(feature_map(graph, spec.output, "zero_padding")),
      pt_(config_int(spec.config, "pad_top", 0, "zero_padding")),
      pl_(config_int(spec.config, "pad_left", 0, "zero_padding")) {
  if (in_.channels != out_.channels || pt_ + in_.height > out_.height || pl_ + in_.width > out_.width)
    throw std::invalid_argument("zero_padding: shape mismatch");
}

void ZeroPadding::forward(Pass& p) {
  const int64_t C = in_.channels, per_task = samples_per_task(out_.size());
  const float* x = input(p);
  float* y = output_value(p);
  parallel_for((p.rows + per_task - 1) / per_task, p.rows * out_.size() > kParallelGrain, [&](int64_t t) {
    const int64_t n0 = t * per_task, n1 = std::min(p.rows, n0 + per_task);
    std::fill(y + n0 * out_.size(), y + n1 * out_.size(), 0.0f);
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t h = 0; h < in_.height; ++h) {
        const float* src = x + n * in_.size() + h * in_.width * C;
        std::copy(src, src + in_.width * C, y + n * out_.size() + ((h + pt_) * out_.width + pl_) * C);
      }
  });
}

void ZeroPadding::backward(Pass& p) {
  if (grad_mode_[0] == GradMode::skip) return;
  const int64_t C = in_.channels, row = in_.width * C, per_task = samples_per_task(in_.size());
  const float* gy = output_grad(p);
  float* gx = input_grad(p);
  const bool overwrite = grad_mode_[0] == GradMode::write;
  parallel_for((p.rows + per_task - 1) / per_task, p.rows * in_.size() > kParallelGrain, [&](int64_t t) {
    for (int64_t n = t * per_task; n < std::min(p.rows, (t + 1) * per_task); ++n)
      for (int64_t h = 0; h < in_.height; ++h) {
        const float* src = gy + n * out_.size() + ((h + pt_) * out_.width + pl_) * C;
        float* dst = gx + n * in_.size() + h * row;
        if (overwrite) {
          std::copy(src, src + row, dst);
        } else {
#pragma omp simd
          for (int64_t i = 0; i < row; ++i) dst[i] += src[i];
        }
      }
  });
}

}  // namespace fitcore
