#pragma once
// Optimizers as small update rules over one flat parameter buffer and its twin gradient
// buffer. Each keeps its slot variables (momenta, moments) as flat buffers of the same size.
// The base class holds Keras's base-optimizer arguments (clipnorm, clipvalue, global_clipnorm,
// weight_decay) and applies them in Keras's order before the rule's update.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fitcore/buffer.hpp"
#include "fitcore/config.hpp"
#include "fitcore/graph.hpp"

namespace fitcore {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update of params[0, n) from grads[0, n). `step` counts from 1; `lr` is this step's rate.
  virtual void update(float* params, const float* grads, int64_t n, float lr, int64_t step) = 0;

  // Keras's apply(): clip the gradients (in place), decay the weights w -= w * wd * lr, then update.
  void apply(float* params, float* grads, int64_t n, float lr, int64_t step);

  // The base-optimizer arguments from the config (absent or 0 means off).
  void configure_base(const Config& config);
  // The trainable weights' ranges in [0, n): clipnorm clips each one by its own norm.
  void set_variables(std::vector<ParamSpec> variables) { variables_ = std::move(variables); }
  // Weights weight decay skips (Keras's exclude_from_weight_decay), by their ranges.
  void exclude_from_weight_decay(std::vector<ParamSpec> excluded) { excluded_ = std::move(excluded); }

  // Slot variables, named as Keras names them, for saving and restoring.
  const std::vector<std::string>& state_names() const { return state_names_; }
  std::vector<Buffer>& state() { return state_; }

 protected:
  // Declares a slot variable of n floats, all `initial`.
  float* add_state(const std::string& name, int64_t n, float initial = 0.0f);

  std::vector<std::string> state_names_;
  std::vector<Buffer> state_;

 private:
  void clip(float* grads, int64_t n) const;
  void decay(float* params, int64_t n, float lr) const;

  float clipnorm_ = 0.0f, clipvalue_ = 0.0f, global_clipnorm_ = 0.0f, weight_decay_ = 0.0f;
  std::vector<ParamSpec> variables_, excluded_;
};

// The trainable weights' ranges of a graph: every op's ParamSpec inside [0, num_trainable), once.
std::vector<ParamSpec> trainable_variables(const GraphSpec& graph);

// The one registry of optimizers by name; throws std::invalid_argument for an unknown name.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, const Config& config, int64_t n);

}  // namespace fitcore
