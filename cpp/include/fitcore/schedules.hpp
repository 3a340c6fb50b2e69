#pragma once
// Learning-rate schedules, evaluated by the trainer at the optimizer's iteration count before
// the step's increment (as Keras evaluates optimizer.learning_rate), so runs of steps need no Python.
#include <cstdint>
#include <memory>
#include <string>

#include "fitcore/config.hpp"

namespace fitcore {

class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  virtual double operator()(int64_t step) const = 0;
};

// The one registry of schedules by Keras class name; throws std::invalid_argument for an unknown
// name. Lists travel as numbered settings: "boundary_0", ..., "value_0", ... with "num_values".
std::unique_ptr<LearningRateSchedule> make_schedule(const std::string& name, const Config& config);

}  // namespace fitcore
