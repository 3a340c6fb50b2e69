// Keras's mean-wrapped metrics: a value per element, averaged with the element weights.
#include "fitcore/metrics.hpp"

#include "fitcore/metrics/confusion.hpp"
#include "fitcore/losses.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fitcore {
namespace {

inline int64_t argmax(const float* v, int64_t n) { return std::max_element(v, v + n) - v; }

template <class Kernel>
class MeanMetric final : public Metric {
 public:
  explicit MeanMetric(Kernel kernel) : kernel_(kernel) {}
  void reset() override { mean_.reset(); }
  void update(const MetricArgs& a) override {
    for (int64_t e = 0; e < a.elements; ++e)
      mean_.add(kernel_(a.pred + e * a.dim, a.target + e * a.target_dim, a.dim, a.target_dim),
                a.weight ? a.weight[e] : 1.0);
  }
  double result() const override { return mean_.result(); }
  std::vector<double*> state() override { return mean_.state(); }

 private:
  Kernel kernel_;
  MeanTracker mean_;
};

template <class Kernel>
std::unique_ptr<Metric> mean_metric(Kernel k) {
  return std::make_unique<MeanMetric<Kernel>>(k);
}

// A mean metric of one class id per element (a.labels, exact int64) instead of a target row.
template <class Kernel>
class LabelMeanMetric final : public Metric {
 public:
  explicit LabelMeanMetric(Kernel kernel) : kernel_(kernel) {}
  bool takes_labels() const override { return true; }
  void reset() override { mean_.reset(); }
  void update(const MetricArgs& a) override {
    for (int64_t e = 0; e < a.elements; ++e)
      mean_.add(kernel_(a.pred + e * a.dim, a.labels[e], a.dim), a.weight ? a.weight[e] : 1.0);
  }
  double result() const override { return mean_.result(); }
  std::vector<double*> state() override { return mean_.state(); }

 private:
  Kernel kernel_;
  MeanTracker mean_;
};

template <class Kernel>
std::unique_ptr<Metric> label_metric(Kernel k) {
  return std::make_unique<LabelMeanMetric<Kernel>>(k);
}

// Keras's RootMeanSquaredError: the square root of the weighted mean of per-element mse.
template <class Kernel>
class RootMeanMetric final : public Metric {
 public:
  explicit RootMeanMetric(Kernel kernel) : mean_(kernel) {}
  void reset() override { mean_.reset(); }
  void update(const MetricArgs& a) override { mean_.update(a); }
  double result() const override { return std::sqrt(mean_.result()); }
  std::vector<double*> state() override { return mean_.state(); }

 private:
  MeanMetric<Kernel> mean_;
};

struct SparseCategoricalAccuracy {
  double operator()(const float* p, int64_t label, int64_t dim) const {
    return static_cast<double>(argmax(p, dim) == label);
  }
};

struct CategoricalAccuracy {
  double operator()(const float* p, const float* t, int64_t dim, int64_t) const {
    return static_cast<double>(argmax(p, dim) == argmax(t, dim));
  }
};

struct BinaryAccuracy {
  float threshold;
  double operator()(const float* p, const float* t, int64_t dim, int64_t) const {
    int64_t hits = 0;
    for (int64_t j = 0; j < dim; ++j) hits += (p[j] > threshold ? 1.0f : 0.0f) == t[j];
    return static_cast<double>(hits) / static_cast<double>(dim);
  }
};

struct MeanSquaredError {
  double operator()(const float* p, const float* t, int64_t dim, int64_t) const {
    float sum = 0.0f;  // float32, as Keras's mean over the last axis
    for (int64_t j = 0; j < dim; ++j) sum += (p[j] - t[j]) * (p[j] - t[j]);
    return sum / static_cast<float>(dim);
  }
};

struct MeanAbsoluteError {
  double operator()(const float* p, const float* t, int64_t dim, int64_t) const {
    float sum = 0.0f;
    for (int64_t j = 0; j < dim; ++j) sum += std::fabs(p[j] - t[j]);
    return sum / static_cast<float>(dim);
  }
};

// The one-hot target's class is in the top k when fewer than k predictions are strictly larger
// than its own (ties count as hits, as ops.in_top_k).
struct TopKCategoricalAccuracy {
  int64_t k;
  double operator()(const float* p, const float* t, int64_t dim, int64_t) const {
    const float target = p[argmax(t, dim)];
    int64_t larger = 0;
    for (int64_t j = 0; j < dim; ++j) larger += p[j] > target;
    return static_cast<double>(larger < k);
  }
};

// A loss's per-element value as a metric (Keras's MeanMetricWrapper around the loss function):
// the loss kernel itself computes it, so metric and loss share one formula. `sign` flips it
// (the cosine_similarity metric is the loss's negative).
class LossMeanMetric final : public Metric {
 public:
  LossMeanMetric(std::unique_ptr<Loss> loss, double sign) : loss_(std::move(loss)), sign_(sign) {}
  void reset() override { mean_.reset(); }
  void update(const MetricArgs& a) override {
    ensure_size(values_, a.elements);
    LossArgs l;
    l.pred = a.pred;
    l.target = a.target;
    l.elements = a.elements;
    l.dim = a.dim;
    l.target_dim = a.target_dim;
    l.losses = values_.data();
    loss_->compute(l);
    for (int64_t e = 0; e < a.elements; ++e)
      mean_.add(sign_ * values_[static_cast<size_t>(e)], a.weight ? a.weight[e] : 1.0);
  }
  double result() const override { return mean_.result(); }
  std::vector<double*> state() override { return mean_.state(); }

 private:
  std::unique_ptr<Loss> loss_;
  double sign_;
  Buffer values_;
  MeanTracker mean_;
};

}  // namespace

std::unique_ptr<Metric> make_metric(const std::string& name, const Config& c) {
  if (name == "sparse_categorical_accuracy") return label_metric(SparseCategoricalAccuracy{});
  if (name == "categorical_accuracy") return mean_metric(CategoricalAccuracy{});
  if (name == "binary_accuracy") return mean_metric(BinaryAccuracy{static_cast<float>(c.number("threshold", 0.5))});
  if (name == "mean_squared_error") return mean_metric(MeanSquaredError{});
  if (name == "mean_absolute_error") return mean_metric(MeanAbsoluteError{});
  if (name == "root_mean_squared_error") return std::make_unique<RootMeanMetric<MeanSquaredError>>(MeanSquaredError{});
  if (name == "top_k_categorical_accuracy")
    return mean_metric(TopKCategoricalAccuracy{static_cast<int64_t>(c.number("k", 5.0))});
  if (auto confusion = make_confusion_metric(name, c)) return confusion;
  for (const char* loss : {"mean_absolute_percentage_error", "mean_squared_logarithmic_error", "kl_divergence",
                           "poisson", "log_cosh"})
    if (name == loss) return std::make_unique<LossMeanMetric>(make_loss(name, c), 1.0);
  if (name == "cosine_similarity") return std::make_unique<LossMeanMetric>(make_loss(name, c), -1.0);
  throw std::invalid_argument("unknown metric '" + name + "'");
}

}  // namespace fitcore
