#pragma once
// The plan that compile() lowers a model to: slots (tensors) and ordered ops over them.
#include <cstdint>
#include <string>
#include <vector>

#include "fitcore/config.hpp"

namespace fitcore {

// One weight inside the flat parameter buffer.
struct ParamSpec {
  int64_t offset = 0;
  int64_t size = 0;
  float l1 = 0.0f;  // regularizer: l1 * sum|w| + l2 * sum w^2 joins the training loss
  float l2 = 0.0f;
};

struct OpSpec {
  std::string kind;          // "dense", "activation", ...
  std::vector<int> inputs;   // slot ids
  int output = -1;           // slot id
  Config config;
  std::vector<ParamSpec> params;
};

struct GraphSpec {
  std::vector<std::vector<int64_t>> slot_shapes;  // per-sample shape of every slot
  std::vector<int> inputs;                        // slots filled from data
  std::vector<int> outputs;                       // slots the losses read
  std::vector<OpSpec> ops;                        // in execution order
  int64_t num_params = 0;                         // trainable params come first ...
  int64_t num_trainable = 0;                      // ... so the optimizer sweeps [0, num_trainable)

  int64_t width(int slot) const {
    int64_t w = 1;
    for (int64_t d : slot_shapes.at(static_cast<size_t>(slot))) w *= d;
    return w;
  }
  int64_t last_dim(int slot) const {
    const auto& s = slot_shapes.at(static_cast<size_t>(slot));
    return s.empty() ? 1 : s.back();
  }
};

}  // namespace fitcore
