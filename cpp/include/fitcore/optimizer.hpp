#pragma once
// Optimizers as small update rules over one flat parameter buffer and its twin gradient
// buffer. Each keeps its slot variables (momenta, moments) as flat buffers of the same size.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fitcore/buffer.hpp"
#include "fitcore/config.hpp"

namespace fitcore {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update of params[0, n) from grads[0, n). `step` counts from 1; `lr` is this step's rate.
  virtual void update(float* params, const float* grads, int64_t n, float lr, int64_t step) = 0;

  // Slot variables, named as Keras names them, for saving and restoring.
  const std::vector<std::string>& state_names() const { return state_names_; }
  std::vector<Buffer>& state() { return state_; }

 protected:
  // Declares a slot variable of n floats, all `initial`.
  float* add_state(const std::string& name, int64_t n, float initial = 0.0f);

  std::vector<std::string> state_names_;
  std::vector<Buffer> state_;
};

// The one registry of optimizers by name; throws std::invalid_argument for an unknown name.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, const Config& config, int64_t n);

}  // namespace fitcore
