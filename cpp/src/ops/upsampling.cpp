// UpSampling: nearest-neighbour repeats (see upsampling.hpp).
#include "fitcore/ops/upsampling.hpp"

#include <algorithm>
#include <stdexcept>

#include "fitcore/parallel.hpp"

namespace fitcore {

UpSampling::UpSampling(const OpSpec& spec, const GraphSpec& graph)
    : Op(spec, graph),
      in_(feature_map(graph, spec.inputs.at(0), "upsampling")),
      out_(feature_map(graph, spec.output, "upsampling")),
      size_h_(config_int(spec.config, "size_h", 1, "upsampling")),
      size_w_(config_int(spec.config, "size_w", 1, "upsampling")) {
  if (in_.channels != out_.channels || in_.height * size_h_ != out_.height || in_.width * size_w_ != out_.width)
    throw std::invalid_argument("upsampling: shape mismatch");
}

void UpSampling::forward(Pass& p) {
  const int64_t C = in_.channels, per_task = samples_per_task(out_.size());
  const float* x = input(p);
  float* y = output_value(p);
  parallel_for((p.rows + per_task - 1) / per_task, p.rows * out_.size() > kParallelGrain, [&](int64_t t) {
    for (int64_t n = t * per_task; n < std::min(p.rows, (t + 1) * per_task); ++n)
      for (int64_t oh = 0; oh < out_.height; ++oh)
        for (int64_t ow = 0; ow < out_.width; ++ow) {
          const float* src = x + n * in_.size() + ((oh / size_h_) * in_.width + ow / size_w_) * C;
          std::copy(src, src + C, y + n * out_.size() + (oh * out_.width + ow) * C);
        }
  });
}

void UpSampling::backward(Pass& p) {
  if (grad_mode_[0] == GradMode::skip) return;
  const int64_t C = in_.channels, per_task = samples_per_task(out_.size());
  const float* gy = output_grad(p);
  float* gx = input_grad(p);
  const bool overwrite = grad_mode_[0] == GradMode::write;
  parallel_for((p.rows + per_task - 1) / per_task, p.rows * out_.size() > kParallelGrain, [&](int64_t t) {
    for (int64_t n = t * per_task; n < std::min(p.rows, (t + 1) * per_task); ++n)
      for (int64_t h = 0; h < in_.height; ++h)
        for (int64_t w = 0; w < in_.width; ++w) {
          float* dst = gx + n * in_.size() + (h * in_.width + w) * C;
          if (overwrite) std::fill(dst, dst + C, 0.0f);
          for (int64_t i = 0; i < size_h_; ++i)
            for (int64_t j = 0; j < size_w_; ++j) {
              const float* src = gy + n * out_.size() + ((h * size_h_ + i) * out_.width + w * size_w_ + j) * C;
#pragma omp simd
              for (int64_t c = 0; c < C; ++c) dst[c] += src[c];
            }
        }
  });
}

}  // namespace fitcore
