// Keras 3's losses, each a per-element kernel returning the loss of one element and, when
// asked, writing scale * dloss/dpred for it. Reduction (sum over elements / element count,
// Keras's sum_over_batch_size) is the trainer's.
#include "fitcore/losses.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

#include "fitcore/buffer.hpp"
#include "fitcore/kernels/vecmath.hpp"

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
    const kernels::VecMath& k = kernels::vecmath();  // exp and log vectorised at the CPU's level
    const float log_z = k.log_sum_exp(p, dim);
    float ty = 0.0f, tsum = 0.0f;
    for (int64_t j = 0; j < dim; ++j) {
      ty += target_at(j) * (p[j] - log_z);
      tsum += target_at(j);
    }
    if (g) {
      k.exp_shifted(p, log_z, g, dim);  // softmax(p)
      for (int64_t j = 0; j < dim; ++j) g[j] = scale * (g[j] * tsum - target_at(j));
    }
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


// Keras's mean_absolute_percentage_error: 100 * mean |(t - p) / max(|t|, eps)|.
struct MeanAbsolutePercentageError {
  float operator()(const float* p, const float* t, int64_t dim, float* g, float scale) const {
    float sum = 0.0f;
    for (int64_t j = 0; j < dim; ++j) {
      const float c = std::max(std::fabs(t[j]), kEpsilon), d = p[j] - t[j];
      sum += std::fabs(d / c);
      if (g) g[j] = scale * 100.0f * static_cast<float>((d > 0.0f) - (d < 0.0f)) / c / static_cast<float>(dim);
    }
    return 100.0f * sum / static_cast<float>(dim);
  }
};

// Keras's mean_squared_logarithmic_error: mean (log(max(p, eps) + 1) - log(max(t, eps) + 1))^2.
struct MeanSquaredLogarithmicError {
  float operator()(const float* p, const float* t, int64_t dim, float* g, float scale) const {
    float sum = 0.0f;
    for (int64_t j = 0; j < dim; ++j) {
      const float q = std::max(p[j], kEpsilon);
      const float d = std::log(q + 1.0f) - std::log(std::max(t[j], kEpsilon) + 1.0f);
      sum += d * d;
      // max passes the gradient where p >= eps (at the bound too, as the clips above)
      if (g) g[j] = p[j] >= kEpsilon ? scale * 2.0f * d / (q + 1.0f) / static_cast<float>(dim) : 0.0f;
    }
    return sum / static_cast<float>(dim);
  }
};

// Keras's l2 normalize scale: min(1 / ||v||, 1 / eps); `clipped` when the bound is what applied.
inline float inverse_norm(const float* v, int64_t dim, bool* clipped) {
  float sq = 0.0f;
  for (int64_t j = 0; j < dim; ++j) sq += v[j] * v[j];
  const float bound = 1.0f / kEpsilon;
  const float inv = sq > 0.0f ? 1.0f / std::sqrt(sq) : bound;
  *clipped = !(inv < bound);
  return *clipped ? bound : inv;
}

// Keras's cosine_similarity loss: -sum(l2_normalize(t) * l2_normalize(p)) over the last axis.
struct CosineSimilarity {
  float operator()(const float* p, const float* t, int64_t dim, float* g, float scale) const {
    bool p_clipped = false, t_clipped = false;
    const float ip = inverse_norm(p, dim, &p_clipped), it = inverse_norm(t, dim, &t_clipped);
    float dot = 0.0f;
    for (int64_t j = 0; j < dim; ++j) dot += (t[j] * it) * (p[j] * ip);
    if (g)  // d/dp of -(tn . p ip): -ip (tn - pn (pn . tn)), the projection only when ip is not clipped
      for (int64_t j = 0; j < dim; ++j) {
        const float tn = t[j] * it, pn = p[j] * ip;
        g[j] = -scale * ip * (tn - (p_clipped ? 0.0f : pn * dot));
      }
    return -dot;
  }
};

// Keras's log_cosh: mean of x + softplus(-2x) - log 2 with x = p - t; its derivative is tanh(x).
struct LogCosh {
  float operator()(const float* p, const float* t, int64_t dim, float* g, float scale) const {
    float sum = 0.0f;
    for (int64_t j = 0; j < dim; ++j) {
      const float x = p[j] - t[j], z = -2.0f * x;
      sum += x + (std::max(z, 0.0f) + std::log1p(std::exp(-std::fabs(z)))) - 0.69314718055994531f;
      if (g) g[j] = scale * std::tanh(x) / static_cast<float>(dim);
    }
    return sum / static_cast<float>(dim);
  }
};

// Keras's kl_divergence: sum t log(t / p) with t and p clipped to [eps, 1] (a sum, not a mean).
struct KLDivergence {
  float operator()(const float* p, const float* t, int64_t dim, float* g, float scale) const {
    float sum = 0.0f;
    for (int64_t j = 0; j < dim; ++j) {
      const float tc = std::min(std::max(t[j], kEpsilon), 1.0f), pc = std::min(std::max(p[j], kEpsilon), 1.0f);
      sum += tc * std::log(tc / pc);
      if (g) g[j] = p[j] >= kEpsilon && p[j] <= 1.0f ? -scale * tc / pc : 0.0f;
    }
    return sum;
  }
};

// Keras's poisson: mean(p - t log(p + eps)).
struct Poisson {
  float operator()(const float* p, const float* t, int64_t dim, float* g, float scale) const {
    float sum = 0.0f;
    for (int64_t j = 0; j < dim; ++j) {
      sum += p[j] - t[j] * std::log(p[j] + kEpsilon);
      if (g) g[j] = scale * (1.0f - t[j] / (p[j] + kEpsilon)) / static_cast<float>(dim);
    }
    return sum / static_cast<float>(dim);
  }
};

// Keras's hinge and squared_hinge: mean of max(1 - y p, 0) (squared), where y is the target with
// {0, 1} labels turned into {-1, 1} when every target of the batch is 0 or 1 (Keras's
// convert_binary_labels_to_hinge looks at the whole batch).
struct Hinge {
  bool squared;
  bool convert = false;  // set per batch by BatchHinge
  float operator()(const float* p, const float* t, int64_t dim, float* g, float scale) const {
    float sum = 0.0f;
    for (int64_t j = 0; j < dim; ++j) {
      const float y = convert ? 2.0f * t[j] - 1.0f : t[j];
      const float m = std::max(1.0f - y * p[j], 0.0f);
      sum += squared ? m * m : m;
      if (g) g[j] = m > 0.0f ? scale * -y * (squared ? 2.0f * m : 1.0f) / static_cast<float>(dim) : 0.0f;
    }
    return sum / static_cast<float>(dim);
  }
};

class BatchHinge final : public Loss {
 public:
  explicit BatchHinge(bool squared) : squared_(squared) {}
  void compute(const LossArgs& a) const override {
    const int64_t n = a.elements * a.target_dim;
    bool binary = true;
    for (int64_t k = 0; k < n && binary; ++k) binary = a.target[k] == 0.0f || a.target[k] == 1.0f;
    Hinge kernel{squared_, binary};
    ElementLoss<Hinge>(kernel).compute(a);
  }

 private:
  bool squared_;
};

// Keras's categorical_hinge: max(max_j (1 - t_j) p_j - sum_j t_j p_j + 1, 0).
struct CategoricalHinge {
  float operator()(const float* p, const float* t, int64_t dim, float* g, float scale) const {
    float pos = 0.0f, neg = -std::numeric_limits<float>::infinity();
    int64_t at = 0;
    for (int64_t j = 0; j < dim; ++j) {
      pos += t[j] * p[j];
      const float v = (1.0f - t[j]) * p[j];
      if (v > neg) {  // the first of equal maxima takes the gradient
        neg = v;
        at = j;
      }
    }
    const float loss = std::max(neg - pos + 1.0f, 0.0f);
    if (g)
      for (int64_t j = 0; j < dim; ++j)
        g[j] = loss > 0.0f ? scale * ((j == at ? 1.0f - t[j] : 0.0f) - t[j]) : 0.0f;
    return loss;
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
  if (name == "mean_absolute_percentage_error") return element_loss(MeanAbsolutePercentageError{});
  if (name == "mean_squared_logarithmic_error") return element_loss(MeanSquaredLogarithmicError{});
  if (name == "cosine_similarity") return element_loss(CosineSimilarity{});
  if (name == "log_cosh") return element_loss(LogCosh{});
  if (name == "kl_divergence") return element_loss(KLDivergence{});
  if (name == "poisson") return element_loss(Poisson{});
  if (name == "hinge") return std::make_unique<BatchHinge>(false);
  if (name == "squared_hinge") return std::make_unique<BatchHinge>(true);
  if (name == "categorical_hinge") return element_loss(CategoricalHinge{});
  throw std::invalid_argument("unknown loss '" + name + "'");
}

}  // namespace fitcore
