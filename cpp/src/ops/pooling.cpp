// Pooling: max / average over windows (see pooling.hpp).
#include "fitcore/ops/pooling.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "fitcore/parallel.hpp"

namespace fitcore {

Pooling::Pooling(const OpSpec& spec, const GraphSpec& graph)
    : Op(spec, graph),
      in_(feature_map(graph, spec.inputs.at(0), "pooling")),
      out_(feature_map(graph, spec.output, "pooling")),
      ph_(config_int(spec.config, "pool_h", 1, "pooling")),
      pw_(config_int(spec.config, "pool_w", 1, "pooling")),
      sh_(config_int(spec.config, "stride_h", 1, "pooling")),
      sw_(config_int(spec.config, "stride_w", 1, "pooling")),
      pt_(config_int(spec.config, "pad_top", 0, "pooling")),
      pl_(config_int(spec.config, "pad_left", 0, "pooling")) {
  const std::string mode = spec.config.string("mode");
  if (mode != "max" && mode != "average") throw std::invalid_argument("pooling: mode must be max or average");
  max_ = mode == "max";
  if (in_.channels != out_.channels) throw std::invalid_argument("pooling: channels differ");
  if (in_.size() > std::numeric_limits<int32_t>::max()) throw std::invalid_argument("pooling: input too large");
  // Every window must meet the input, so a max always has a value and an average a count.
  for (int64_t oh = 0; oh < out_.height; ++oh)
    for (int64_t ow = 0; ow < out_.width; ow += std::max<int64_t>(out_.width - 1, 1)) {
      int64_t h0, h1, w0, w1;
      window(oh, ow, h0, h1, w0, w1);
      if (h0 >= h1 || w0 >= w1) throw std::invalid_argument("pooling: a window lies outside the input");
    }
}

void Pooling::window(int64_t oh, int64_t ow, int64_t& h0, int64_t& h1, int64_t& w0, int64_t& w1) const {
  h0 = oh * sh_ - pt_, w0 = ow * sw_ - pl_;
  h1 = std::min(h0 + ph_, in_.height), w1 = std::min(w0 + pw_, in_.width);
  h0 = std::max<int64_t>(h0, 0), w0 = std::max<int64_t>(w0, 0);
}

void Pooling::reserve(int64_t rows) {
  if (max_ && static_cast<int64_t>(argmax_.size()) < rows * out_.size())
    argmax_.resize(static_cast<size_t>(rows * out_.size()));
}

void Pooling::forward(Pass& p) {
  const int64_t C = in_.channels, per_task = samples_per_task(out_.size() * ph_ * pw_);
  const float* x = input(p);
  float* y = output_value(p);
  parallel_for((p.rows + per_task - 1) / per_task, p.rows * out_.size() * ph_ * pw_ > kParallelGrain, [&](int64_t t) {
    for (int64_t n = t * per_task; n < std::min(p.rows, (t + 1) * per_task); ++n) {
      const float* xn = x + n * in_.size();
      for (int64_t oh = 0; oh < out_.height; ++oh)
        for (int64_t ow = 0; ow < out_.width; ++ow) {
          int64_t h0, h1, w0, w1;
          window(oh, ow, h0, h1, w0, w1);
          const int64_t o = n * out_.size() + (oh * out_.width + ow) * C;
          float* yo = y + o;
          if (max_) {
            int32_t* idx = argmax_.data() + o;
            const int64_t first = (h0 * in_.width + w0) * C;
            for (int64_t c = 0; c < C; ++c) yo[c] = xn[first + c], idx[c] = static_cast<int32_t>(first + c);
            for (int64_t ih = h0; ih < h1; ++ih)
              for (int64_t iw = w0; iw < w1; ++iw) {
                const int64_t base = (ih * in_.width + iw) * C;
                for (int64_t c = 0; c < C; ++c)
                  if (xn[base + c] > yo[c]) yo[c] = xn[base + c], idx[c] = static_cast<int32_t>(base + c);
              }
          } else {
            std::fill(yo, yo + C, 0.0f);
            for (int64_t ih = h0; ih < h1; ++ih)
              for (int64_t iw = w0; iw < w1; ++iw) {
                const float* xi = xn + (ih * in_.width + iw) * C;
#pragma omp simd
                for (int64_t c = 0; c < C; ++c) yo[c] += xi[c];
              }
            const float inv = 1.0f / static_cast<float>((h1 - h0) * (w1 - w0));
#pragma omp simd
            for (int64_t c = 0; c < C; ++c) yo[c] *= inv;
          }
        }
    }
  });
}

void Pooling::backward(Pass& p) {
  if (grad_mode_[0] == GradMode::skip) return;
  const int64_t C = in_.channels, per_task = samples_per_task(out_.size() * ph_ * pw_);
  const float* gy = output_grad(p);
  float* gx = input_grad(p);
  const bool overwrite = grad_mode_[0] == GradMode::write;
  parallel_for((p.rows + per_task - 1) / per_task, p.rows * out_.size() * ph_ * pw_ > kParallelGrain, [&](int64_t t) {
    const int64_t n0 = t * per_task, n1 = std::min(p.rows, n0 + per_task);
    if (overwrite) std::fill(gx + n0 * in_.size(), gx + n1 * in_.size(), 0.0f);
    for (int64_t n = n0; n < n1; ++n) {
      float* gn = gx + n * in_.size();
      const float* gyn = gy + n * out_.size();
      if (max_) {
        const int32_t* idx = argmax_.data() + n * out_.size();
        for (int64_t o = 0; o < out_.size(); ++o) gn[idx[o]] += gyn[o];
        continue;
      }
      for (int64_t oh = 0; oh < out_.height; ++oh)
        for (int64_t ow = 0; ow < out_.width; ++ow) {
          int64_t h0, h1, w0, w1;
          window(oh, ow, h0, h1, w0, w1);
          const float inv = 1.0f / static_cast<float>((h1 - h0) * (w1 - w0));
          const float* go = gyn + (oh * out_.width + ow) * C;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) {
              float* gi = gn + (ih * in_.width + iw) * C;
#pragma omp simd
              for (int64_t c = 0; c < C; ++c) gi[c] += go[c] * inv;
            }
        }
    }
  });
}

}  // namespace fitcore
