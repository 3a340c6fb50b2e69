// Keras 3's schedule formulas (keras/optimizers/schedules), in double.
#include "fitcore/schedules.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace fitcore {
namespace {

// initial * rate^(step / decay_steps), the exponent floored with staircase.
class ExponentialDecay final : public LearningRateSchedule {
 public:
  explicit ExponentialDecay(const Config& c)
      : initial_(c.number("initial_learning_rate")), decay_steps_(c.number("decay_steps")),
        decay_rate_(c.number("decay_rate")), staircase_(c.number("staircase", 0.0) != 0.0) {}
  double operator()(int64_t step) const override {
    double p = static_cast<double>(step) / decay_steps_;
    if (staircase_) p = std::floor(p);
    return initial_ * std::pow(decay_rate_, p);
  }

 private:
  double initial_, decay_steps_, decay_rate_;
  bool staircase_;
};

// values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i].
class PiecewiseConstantDecay final : public LearningRateSchedule {
 public:
  explicit PiecewiseConstantDecay(const Config& c) {
    const auto n = static_cast<int64_t>(c.number("num_values"));
    for (int64_t i = 0; i < n; ++i) values_.push_back(c.number("value_" + std::to_string(i)));
    for (int64_t i = 0; i + 1 < n; ++i) boundaries_.push_back(c.number("boundary_" + std::to_string(i)));
    if (values_.empty()) throw std::invalid_argument("PiecewiseConstantDecay: no values");
  }
  double operator()(int64_t step) const override {
    const auto s = static_cast<double>(step);
    size_t i = 0;
    while (i < boundaries_.size() && s > boundaries_[i]) ++i;
    return values_[i];
  }

 private:
  std::vector<double> boundaries_, values_;
};

// Linear warmup from initial to warmup_target over warmup_steps, then cosine decay to alpha times
// the start over decay_steps; without warmup_target, cosine decay from initial.
class CosineDecay final : public LearningRateSchedule {
 public:
  explicit CosineDecay(const Config& c)
      : initial_(c.number("initial_learning_rate")), decay_steps_(c.number("decay_steps")),
        alpha_(c.number("alpha", 0.0)), warmup_(c.numbers.count("warmup_target") > 0),
        warmup_target_(c.number("warmup_target", 0.0)), warmup_steps_(c.number("warmup_steps", 0.0)) {}
  double operator()(int64_t step) const override {
    const double kPi = 3.14159265358979323846;
    auto decay = [&](double s, double from) {
      const double cosine = 0.5 * (1.0 + std::cos(kPi * s / decay_steps_));
      return from * ((1.0 - alpha_) * cosine + alpha_);
    };
    double s = static_cast<double>(step);
    if (!warmup_) return decay(std::min(s, decay_steps_), initial_);
    s = std::min(s, decay_steps_ + warmup_steps_);
    if (s < warmup_steps_) return (warmup_target_ - initial_) * (s / warmup_steps_) + initial_;
    return decay(s - warmup_steps_, warmup_target_);
  }

 private:
  double initial_, decay_steps_, alpha_;
  bool warmup_;
  double warmup_target_, warmup_steps_;
};

}  // namespace

std::unique_ptr<LearningRateSchedule> make_schedule(const std::string& name, const Config& config) {
  if (name == "ExponentialDecay") return std::make_unique<ExponentialDecay>(config);
  if (name == "PiecewiseConstantDecay") return std::make_unique<PiecewiseConstantDecay>(config);
  if (name == "CosineDecay") return std::make_unique<CosineDecay>(config);
  throw std::invalid_argument("unknown learning rate schedule '" + name + "'");
}

}  // namespace fitcore
