#include "fitcore/optimizer.hpp"

#include <map>
#include <stdexcept>

#include "fitcore/optimizers/adam.hpp"
#include "fitcore/optimizers/rmsprop.hpp"
#include "fitcore/optimizers/sgd.hpp"

namespace fitcore {

float* Optimizer::add_state(const std::string& name, int64_t n, float initial) {
  state_names_.push_back(name);
  state_.emplace_back(static_cast<size_t>(n), initial);
  return state_.back().data();
}

// The one place optimizers are named. Adding one: its file plus one line here.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, const Config& config, int64_t n) {
  if (name == "sgd") return std::make_unique<SGD>(config, n);
  if (name == "adam") return std::make_unique<Adam>(config, n);
  if (name == "rmsprop") return std::make_unique<RMSprop>(config, n);
  throw std::invalid_argument("unknown optimizer '" + name + "'");
}

}  // namespace fitcore
