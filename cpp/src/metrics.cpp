// Keras's mean-wrapped metrics: a value per element, averaged with the element weights.
#include "fitcore/metrics.hpp"

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

 private:
  Kernel kernel_;
  MeanTracker mean_;
};

template <class Kernel>
std::unique_ptr<Metric> mean_metric(Kernel k) {
  return std::make_unique<MeanMetric<Kernel>>(k);
}

struct SparseCategoricalAccuracy {
  double operator()(const float* p, const float* t, int64_t dim, int64_t) const {
    return static_cast<double>(argmax(p, dim) == static_cast<int64_t>(t[0]));
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

}  // namespace

std::unique_ptr<Metric> make_metric(const std::string& name, const Config& c) {
  if (name == "sparse_categorical_accuracy") return mean_metric(SparseCategoricalAccuracy{});
  if (name == "categorical_accuracy") return mean_metric(CategoricalAccuracy{});
  if (name == "binary_accuracy") return mean_metric(BinaryAccuracy{static_cast<float>(c.number("threshold", 0.5))});
  throw std::invalid_argument("unknown metric '" + name + "'");
}

}  // namespace fitcore
