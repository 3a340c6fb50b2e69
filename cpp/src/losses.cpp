// Keras 3's losses, each a per-element kernel returning the loss of one element and, when
// asked, writing scale * dloss/dpred for it. Reduction (sum over elements / element count,
// Keras's sum_over_batch_size) is the trainer's.
#include "fitcore/losses.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "fitcore/buffer.hpp"

namespace fitcore {
namespace {

constexpr float kEpsilon = 1e-7f;  // Keras's backend epsilon

template <class Kernel>
class ElementLoss final : public Loss {
 public:
  explicit ElementLoss(Kernel kernel) : kernel_(kernel) {}
  void compute(const LossArgs& a) const override {
#pragma omp parallel for schedule(static) if (a.elements * a.dim > kParallelGrain)
    for (int64_t e = 0; e < a.elements; ++e) {
      const float w = a.weight ? a.weight[e] : 1.0f;
      float* g = a.grad ? a.grad + e * a.dim : nullptr;
      a.losses[e] = w * kernel_(a.pred + e * a.dim, a.target + e * a.target_dim, a.dim, g, a.grad_scale * w);
    }
  }

 private:
  Kernel kernel_;
};

template <class Kernel>
std::unique_ptr<Loss> element_loss(Kernel k) {
  return std::make_unique<ElementLoss<Kernel>>(k);
}

// A loss of one class id per element (a.labels, exact int64) instead of a target row.
template <class Kernel>
class LabelLoss final : public Loss {
 public:
  explicit LabelLoss(Kernel kernel) : kernel_(kernel) {}
  bool takes_labels() const override { return true; }
  void compute(const LossArgs& a) const override {
#pragma omp parallel for schedule(static) if (a.elements * a.dim > kParallelGrain)
    for (int64_t e = 0; e < a.elements; ++e) {
      const float w = a.weight ? a.weight[e] : 1.0f;
      float* g = a.grad ? a.grad + e * a.dim : nullptr;
      a.losses[e] = w * kernel_(a.pred + e * a.dim, a.labels[e], a.dim, g, a.grad_scale * w);
    }
  }

 private:
  Kernel kernel_;
};

template <class Kernel>
std::unique_ptr<Loss> label_loss(Kernel k) {
  return std::make_unique<LabelLoss<Kernel>>(k);
}

struct MeanSquaredError {
  float operator()(const float* p, const float* t, int64_t dim, float* g, float scale) const {
    float sum = 0.0f;
    for (int64_t j = 0; j < dim; ++j) {
      const float d = p[j] - t[j];
      sum += d * d;
      if (g) g[j] = scale * 2.0f * d / static_cast<float>(dim);
    }
    return sum / static_cast<float>(dim);
  }
};

struct MeanAbsoluteError {
  float operator()(const float* p, const float* t, int64_t dim, float* g, float scale) const {
    float sum = 0.0f;
    for (int64_t j = 0; j < dim; ++j) {
      const float d = p[j] - t[j];
      sum += std::fabs(d);
      if (g) g[j] = scale * static_cast<float>((d > 0.0f) - (d < 0.0f)) / static_cast<float>(dim);
    }
    return sum / static_cast<float>(dim);
  }
};

// Keras's Huber: 0.5 d^2 where |d| <= delta, else delta * |d| - 0.5 delta^2; mean over the last axis.
struct Huber {
  float delta;
  float operator()(const float* p, const float* t, int64_t dim, float* g, float scale) const {
    float sum = 0.0f;
    for (int64_t j = 0; j < dim; ++j) {
      const float d = p[j] - t[j], a = std::fabs(d);
      const bool quadratic = a <= delta;
      sum += quadratic ? 0.5f * d * d : delta * a - 0.5f * delta * delta;
      if (g) g[j] = scale * (quadratic ? d : delta * static_cast<float>((d > 0.0f) - (d < 0.0f))) / static_cast<float>(dim);
    }
    return sum / static_cast<float>(dim);
  }
};

struct BinaryCrossentropy {
  bool from_logits;
  float smoothing;
  float operator()(const float* p, const float* t, int64_t dim, float* g, float scale) const {
    float sum = 0.0f;
    const float gs = scale / static_cast<float>(dim);
    for (int64_t j = 0; j < dim; ++j) {
      const float y = t[j] * (1.0f - smoothing) + 0.5f * smoothing;
      if (from_logits) {  // -y log s(x) - (1-y) log s(-x), computed stably
        const float x = p[j];
        sum += std::max(x, 0.0f) - x * y + std::log1p(std::exp(-std::fabs(x)));
        if (g) g[j] = gs * (1.0f / (1.0f + std::exp(-x)) - y);
      } else {
        const float q = std::min(std::max(p[j], kEpsilon), 1.0f - kEpsilon);
        sum += -(y * std::log(q) + (1.0f - y) * std::log(1.0f - q));
        // the clip passes no gradient outside, but does at its bounds (torch's clamp, TF's clip_by_value)
        const bool inside = p[j] >= kEpsilon && p[j] <= 1.0f - kEpsilon;
        if (g) g[j] = inside ? gs * ((1.0f - y) / (1.0f - q) - y / q) : 0.0f;
      }
    }
    return sum / static_cast<float>(dim);
  }
};

// Categorical crossentropy against a target distribution `y` over `dim` classes.
// Probabilities are renormalised and clipped as Keras does; logits go through log-softmax.
template <class TargetAt>
float categorical(const float* p, int64_t dim, bool from_logits, float* g, float scale, const TargetAt& target_at) {
  if (from_logits) {
    const float m = *std::max_element(p, p + dim);
    float z = 0.0f, ty = 0.0f, tsum = 0.0f;
    for (int64_t j = 0; j < dim; ++j) z += std::exp(p[j] - m);
    const float log_z = m + std::log(z);
    for (int64_t j = 0; j < dim; ++j) {
      ty += target_at(j) * (p[j] - log_z);
      tsum += target_at(j);
    }
    if (g)
      for (int64_t j = 0; j < dim; ++j) g[j] = scale * (std::exp(p[j] - log_z) * tsum - target_at(j));
    return -ty;
  }
  float s = 0.0f;
  for (int64_t j = 0; j < dim; ++j) s += p[j];
  float loss = 0.0f, dq_dot_q = 0.0f;
  for (int64_t j = 0; j < dim; ++j) {
    const float q = p[j] / s, qc = std::min(std::max(q, kEpsilon), 1.0f - kEpsilon);
    loss -= target_at(j) * std::log(qc);
    if (g) {  // dL/dq, zero where the clip is active (not at its bounds, as in binary above)
      g[j] = (q >= kEpsilon && q <= 1.0f - kEpsilon) ? -target_at(j) / qc : 0.0f;
      dq_dot_q += g[j] * q;
    }
  }
  if (g)  // through q = p / sum(p)
    for (int64_t j = 0; j < dim; ++j) g[j] = scale * (g[j] - dq_dot_q) / s;
  return loss;
}

struct CategoricalCrossentropy {
  bool from_logits;
  float smoothing;
  float operator()(const float* p, const float* t, int64_t dim, float* g, float scale) const {
    const float off = smoothing / static_cast<float>(dim);
    return categorical(p, dim, from_logits, g, scale,
                       [&](int64_t j) { return t[j] * (1.0f - smoothing) + off; });
  }
};

struct SparseCategoricalCrossentropy {
  bool from_logits;
  float operator()(const float* p, int64_t label, int64_t dim, float* g, float scale) const {
    return categorical(p, dim, from_logits, g, scale,
                       [&](int64_t j) { return j == label ? 1.0f : 0.0f; });
  }
};

}  // namespace

std::unique_ptr<Loss> make_loss(const std::string& name, const Config& c) {
  const bool logits = c.number("from_logits", 0.0) != 0.0;
  const auto smoothing = static_cast<float>(c.number("label_smoothing", 0.0));
  if (name == "mean_squared_error") return element_loss(MeanSquaredError{});
  if (name == "mean_absolute_error") return element_loss(MeanAbsoluteError{});
  if (name == "huber") return element_loss(Huber{static_cast<float>(c.number("delta", 1.0))});
  if (name == "binary_crossentropy") return element_loss(BinaryCrossentropy{logits, smoothing});
  if (name == "categorical_crossentropy") return element_loss(CategoricalCrossentropy{logits, smoothing});
  if (name == "sparse_categorical_crossentropy") return label_loss(SparseCategoricalCrossentropy{logits});
  throw std::invalid_argument("unknown loss '" + name + "'");
}

}  // namespace fitcore
