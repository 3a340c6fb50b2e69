#include "fitcore/ops/dot.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fitcore {
namespace {

constexpr float kMaxInverseNorm = 1e7f;  // 1 / Keras's epsilon

// Copies each fibre of x (sample layout) into m (free x k), scaled by min(1/||fibre||, 1e7).
void gather(const float* x, int64_t free, int64_t k, int64_t free_stride, int64_t k_stride, bool normalize,
            float* m, float* inv) {
  for (int64_t i = 0; i < free; ++i) {
    float sq = 0.0f;
    for (int64_t c = 0; c < k; ++c) {
      const float v = x[i * free_stride + c * k_stride];
      m[i * k + c] = v;
      sq += v * v;
    }
    inv[i] = normalize ? std::min(sq > 0.0f ? 1.0f / std::sqrt(sq) : kMaxInverseNorm, kMaxInverseNorm) : 1.0f;
    if (normalize)
      for (int64_t c = 0; c < k; ++c) m[i * k + c] *= inv[i];
  }
}

// From the gradient gm (free x k) with respect to the normalized fibres m back to the input's
// layout: v n = v * s with s = 1/||v||: dv = s (g - n (n . g)); with s clipped (constant): dv = s g.
void scatter(const float* gm, const float* m, const float* inv, int64_t free, int64_t k, int64_t free_stride,
             int64_t k_stride, bool normalize, float* gx) {
  for (int64_t i = 0; i < free; ++i) {
    float proj = 0.0f;
    const bool through_norm = normalize && inv[i] < kMaxInverseNorm;
    if (through_norm)
      for (int64_t c = 0; c < k; ++c) proj += m[i * k + c] * gm[i * k + c];
    for (int64_t c = 0; c < k; ++c)
      gx[i * free_stride + c * k_stride] = inv[i] * (gm[i * k + c] - (through_norm ? m[i * k + c] * proj : 0.0f));
  }
}

}  // namespace

Dot::Side Dot::side(const std::vector<int64_t>& shape, int64_t axis) {
  Side s;
  if (shape.size() == 1 && axis == 0) {
    s.k = shape[0];
  } else if (shape.size() == 2 && (axis == 0 || axis == 1)) {
    s.k = shape[static_cast<size_t>(axis)];
    s.free = shape[static_cast<size_t>(1 - axis)];
    s.k_stride = axis == 1 ? 1 : shape[1];
    s.free_stride = axis == 1 ? shape[1] : 1;
  } else {
    throw std::invalid_argument("dot: inputs of per-sample rank 1 or 2, axis inside it");
  }
  return s;
}

Dot::Dot(const OpSpec& spec, const GraphSpec& graph) : Op(spec, graph) {
  if (inputs_.size() != 2) throw std::invalid_argument("dot: exactly two inputs");
  a_ = side(graph.slot_shapes.at(static_cast<size_t>(inputs_[0])), static_cast<int64_t>(spec.config.number("axis_0")));
  b_ = side(graph.slot_shapes.at(static_cast<size_t>(inputs_[1])), static_cast<int64_t>(spec.config.number("axis_1")));
  normalize_ = spec.config.number("normalize", 0.0) != 0.0;
  if (a_.k != b_.k || a_.free * b_.free != output_width())
    throw std::invalid_argument("dot: contraction axes of different sizes or output of the wrong size");
}

void Dot::reserve(int64_t rows) {
  ensure_size(an_, rows * a_.free * a_.k);
  ensure_size(bn_, rows * b_.free * b_.k);
  ensure_size(inv_a_, rows * a_.free);
  ensure_size(inv_b_, rows * b_.free);
  ensure_size(gam_, rows * a_.free * a_.k);
  ensure_size(gbm_, rows * b_.free * b_.k);
  ensure_size(ga_, rows * input_width(0));
  ensure_size(gb_, rows * input_width(1));
}

void Dot::forward(Pass& p) {
  const int64_t k = a_.k, m = a_.free, n = b_.free;
  const float *x0 = input(p, 0), *x1 = input(p, 1);
  float* y = output_value(p);
#pragma omp parallel for schedule(static) if (p.rows * m * n * k > kParallelGrain)
  for (int64_t r = 0; r < p.rows; ++r) {
    float* A = an_.data() + r * m * k;
    float* B = bn_.data() + r * n * k;
    gather(x0 + r * input_width(0), m, k, a_.free_stride, a_.k_stride, normalize_, A, inv_a_.data() + r * m);
    gather(x1 + r * input_width(1), n, k, b_.free_stride, b_.k_stride, normalize_, B, inv_b_.data() + r * n);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        float s = 0.0f;
        for (int64_t c = 0; c < k; ++c) s += A[i * k + c] * B[j * k + c];
        y[r * m * n + i * n + j] = s;
      }
  }
}

void Dot::backward(Pass& p) {
  const int64_t k = a_.k, m = a_.free, n = b_.free;
  const float* gy = output_grad(p);
#pragma omp parallel for schedule(static) if (p.rows * m * n * k > kParallelGrain)
  for (int64_t r = 0; r < p.rows; ++r) {
    const float* A = an_.data() + r * m * k;
    const float* B = bn_.data() + r * n * k;
    const float* G = gy + r * m * n;
    // dA = G B and dB = G^T A, both (free x k) and contiguous, then scattered through the
    // normalization into each input's own layout.
    float* gA = gam_.data() + r * m * k;
    float* gB = gbm_.data() + r * n * k;
    std::fill(gA, gA + m * k, 0.0f);
    std::fill(gB, gB + n * k, 0.0f);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const float g = G[i * n + j];
        for (int64_t c = 0; c < k; ++c) {
          gA[i * k + c] += g * B[j * k + c];
          gB[j * k + c] += g * A[i * k + c];
        }
      }
    scatter(gA, A, inv_a_.data() + r * m, m, k, a_.free_stride, a_.k_stride, normalize_,
            ga_.data() + r * input_width(0));
    scatter(gB, B, inv_b_.data() + r * n, n, k, b_.free_stride, b_.k_stride, normalize_,
            gb_.data() + r * input_width(1));
  }
  send_grad(p, 0, ga_.data());
  send_grad(p, 1, gb_.data());
}

}  // namespace fitcore
