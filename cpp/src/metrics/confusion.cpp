// Keras's confusion metrics. A prediction p is positive at threshold t when p > t; a label is
// positive when nonzero; an element's weight applies to each of its entries. Counts are kept as a
// histogram over "how many thresholds lie below p" and summed up at result() time, in double and
// in a fixed order, so the result never depends on the thread count.
#include "fitcore/metrics/confusion.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace fitcore {
namespace {

inline double divide_no_nan(double a, double b) { return b == 0.0 ? 0.0 : a / b; }

// Thresholds travel as "threshold_0", ... with "num_thresholds".
std::vector<float> read_thresholds(const Config& c) {
  const auto n = static_cast<int64_t>(c.number("num_thresholds"));
  std::vector<float> t;
  for (int64_t i = 0; i < n; ++i) t.push_back(static_cast<float>(c.number("threshold_" + std::to_string(i))));
  if (t.empty()) throw std::invalid_argument("confusion metric: no thresholds");
  std::sort(t.begin(), t.end());
  return t;
}

class ConfusionMetric : public Metric {
 public:
  explicit ConfusionMetric(const Config& c)
      : thresholds_(read_thresholds(c)), from_logits_(c.number("from_logits", 0.0) != 0.0),
        class_id_(static_cast<int64_t>(c.number("class_id", -1.0))) {
    reset();
  }
  void reset() override {
    positives_.assign(thresholds_.size() + 1, 0.0);
    negatives_.assign(thresholds_.size() + 1, 0.0);
  }
  std::vector<double*> state() override {
    std::vector<double*> out;
    for (auto* counts : {&positives_, &negatives_})
      for (double& v : *counts) out.push_back(&v);
    return out;
  }
  void update(const MetricArgs& a) override {
    if (a.target_dim != a.dim || class_id_ >= a.dim)
      throw std::invalid_argument("confusion metric: targets must match the output shape");
    for (int64_t e = 0; e < a.elements; ++e) {
      const double w = a.weight ? a.weight[e] : 1.0;
      const int64_t first = class_id_ >= 0 ? class_id_ : 0, last = class_id_ >= 0 ? class_id_ + 1 : a.dim;
      for (int64_t j = first; j < last; ++j) {
        float p = a.pred[e * a.dim + j];
        if (from_logits_) p = 1.0f / (1.0f + std::exp(-p));
        const size_t below = std::lower_bound(thresholds_.begin(), thresholds_.end(), p) - thresholds_.begin();
        (a.target[e * a.target_dim + j] != 0.0f ? positives_ : negatives_)[below] += w;
      }
    }
  }

 protected:
  struct Counts {
    std::vector<double> tp, fp, tn, fn;
  };
  // Per threshold i: entries with more than i thresholds below them are predicted positive.
  Counts counts() const {
    const size_t n = thresholds_.size();
    Counts c{std::vector<double>(n), std::vector<double>(n), std::vector<double>(n), std::vector<double>(n)};
    double pos_above = 0.0, neg_above = 0.0, pos_total = 0.0, neg_total = 0.0;
    for (size_t b = 0; b <= n; ++b) {
      pos_total += positives_[b];
      neg_total += negatives_[b];
    }
    for (size_t i = n; i-- > 0;) {
      pos_above += positives_[i + 1];
      neg_above += negatives_[i + 1];
      c.tp[i] = pos_above;
      c.fp[i] = neg_above;
      c.fn[i] = pos_total - pos_above;
      c.tn[i] = neg_total - neg_above;
    }
    return c;
  }
  size_t num_thresholds() const { return thresholds_.size(); }

 private:
  std::vector<float> thresholds_;
  bool from_logits_;
  int64_t class_id_;  // -1: every column of the last axis
  std::vector<double> positives_, negatives_;
};

class Precision final : public ConfusionMetric {
 public:
  using ConfusionMetric::ConfusionMetric;
  double result() const override {
    const Counts c = counts();
    return divide_no_nan(c.tp[0], c.tp[0] + c.fp[0]);
  }
};

class Recall final : public ConfusionMetric {
 public:
  using ConfusionMetric::ConfusionMetric;
  double result() const override {
    const Counts c = counts();
    return divide_no_nan(c.tp[0], c.tp[0] + c.fn[0]);
  }
};

// Keras's AUC: a Riemann sum over the thresholds of the ROC or PR curve.
class AUC final : public ConfusionMetric {
 public:
  explicit AUC(const Config& c)
      : ConfusionMetric(c), pr_(c.string("curve", "ROC") == "PR"),
        summation_(c.string("summation_method", "interpolation")) {}

  double result() const override {
    const Counts c = counts();
    const size_t n = num_thresholds();
    if (pr_ && summation_ == "interpolation") return interpolated_pr_auc(c);
    std::vector<double> x(n), y(n);
    for (size_t i = 0; i < n; ++i) {
      const double recall = divide_no_nan(c.tp[i], c.tp[i] + c.fn[i]);
      if (pr_) {
        x[i] = recall;
        y[i] = divide_no_nan(c.tp[i], c.tp[i] + c.fp[i]);
      } else {
        x[i] = divide_no_nan(c.fp[i], c.fp[i] + c.tn[i]);
        y[i] = recall;
      }
    }
    double area = 0.0;
    for (size_t i = 0; i + 1 < n; ++i) {
      double height;
      if (summation_ == "minoring") height = std::min(y[i], y[i + 1]);
      else if (summation_ == "majoring") height = std::max(y[i], y[i + 1]);
      else height = (y[i] + y[i + 1]) / 2.0;
      area += (x[i] - x[i + 1]) * height;
    }
    return area;
  }

 private:
  // Davis & Goadrich's interpolation of precision between thresholds, as Keras's interpolate_pr_auc.
  static double interpolated_pr_auc(const Counts& c) {
    double area = 0.0;
    for (size_t i = 0; i + 1 < c.tp.size(); ++i) {
      const double dtp = c.tp[i] - c.tp[i + 1];
      const double p0 = c.tp[i] + c.fp[i], p1 = c.tp[i + 1] + c.fp[i + 1];
      const double slope = divide_no_nan(dtp, std::max(p0 - p1, 0.0));
      const double intercept = c.tp[i + 1] - slope * p1;
      const double ratio = p0 > 0.0 && p1 > 0.0 ? divide_no_nan(p0, std::max(p1, 0.0)) : 1.0;
      area += divide_no_nan(slope * (dtp + intercept * std::log(ratio)), std::max(c.tp[i + 1] + c.fn[i + 1], 0.0));
    }
    return area;
  }

  bool pr_;
  std::string summation_;
};

// Keras's TruePositives, FalsePositives, TrueNegatives, FalseNegatives at one threshold: the
// weighted count over the epoch.
class ConditionCount final : public ConfusionMetric {
 public:
  enum Condition { kTruePositives, kFalsePositives, kTrueNegatives, kFalseNegatives };
  ConditionCount(const Config& c, Condition which) : ConfusionMetric(c), which_(which) {}
  double result() const override {
    const Counts c = counts();
    switch (which_) {
      case kTruePositives: return c.tp[0];
      case kFalsePositives: return c.fp[0];
      case kTrueNegatives: return c.tn[0];
      default: return c.fn[0];
    }
  }

 private:
  Condition which_;
};

}  // namespace

std::unique_ptr<Metric> make_confusion_metric(const std::string& name, const Config& config) {
  if (name == "auc") return std::make_unique<AUC>(config);
  if (name == "precision") return std::make_unique<Precision>(config);
  if (name == "recall") return std::make_unique<Recall>(config);
  if (name == "true_positives") return std::make_unique<ConditionCount>(config, ConditionCount::kTruePositives);
  if (name == "false_positives") return std::make_unique<ConditionCount>(config, ConditionCount::kFalsePositives);
  if (name == "true_negatives") return std::make_unique<ConditionCount>(config, ConditionCount::kTrueNegatives);
  if (name == "false_negatives") return std::make_unique<ConditionCount>(config, ConditionCount::kFalseNegatives);
  return nullptr;
}

}  // namespace fitcore
