#pragma once
// Losses as per-element kernels. An element is what Keras reduces the last axis to:
// one sample, or one timestep of a sample for temporal outputs.
#include <cstdint>
#include <memory>
#include <string>

#include "fitcore/config.hpp"

namespace fitcore {

struct LossArgs {
  const float* pred = nullptr;    // elements x dim
  const float* target = nullptr;  // elements x target_dim
  const int64_t* labels = nullptr;  // one class id in [0, dim) per element, for losses that take_labels()
  const float* weight = nullptr;  // one per element, or null for all ones
  int64_t elements = 0;
  int64_t dim = 0;
  int64_t target_dim = 0;
  float* losses = nullptr;        // out: weight * loss, one per element
  float* grad = nullptr;          // out: grad_scale * weight * dloss/dpred, or null
  float grad_scale = 1.0f;
};

class Loss {
 public:
  virtual ~Loss() = default;
  virtual void compute(const LossArgs& args) const = 0;
  // True: reads `labels` (class ids, exact at any size), not `target`.
  virtual bool takes_labels() const { return false; }
};

// The one registry of losses by name; throws std::invalid_argument for an unknown name.
std::unique_ptr<Loss> make_loss(const std::string& name, const Config& config);

}  // namespace fitcore
