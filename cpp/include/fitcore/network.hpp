#pragma once
// A lowered model: the flat parameter buffer, the activation arena and the ops over them.
#include <cstdint>
#include <memory>
#include <vector>

#include "fitcore/buffer.hpp"
#include "fitcore/graph.hpp"
#include "fitcore/op.hpp"

namespace fitcore {

// The most values one slot may hold per sample, and in a batch: sizes in bytes stay far from overflow.
constexpr int64_t kMaxSlotWidth = int64_t{1} << 56;

class Network {
 public:
  explicit Network(GraphSpec spec);

  const GraphSpec& spec() const { return spec_; }
  int64_t num_params() const { return spec_.num_params; }
  int64_t num_trainable() const { return spec_.num_trainable; }
  float* params() { return params_.data(); }
  const float* params() const { return params_.data(); }

  // Sizes every slot and scratch buffer for batches of up to `rows` samples.
  void reserve(int64_t rows);

  // Buffers of the i-th model input / output for the current batch (rows x width).
  float* input_buffer(size_t i) { return slots_.value[static_cast<size_t>(spec_.inputs.at(i))].data(); }
  const float* output(size_t i) const {
    return slots_.value[static_cast<size_t>(spec_.outputs.at(i))].data();
  }
  float* output_grad(size_t i) { return slots_.grad[static_cast<size_t>(spec_.outputs.at(i))].data(); }
  int64_t input_width(size_t i) const { return spec_.width(spec_.inputs.at(i)); }
  int64_t output_width(size_t i) const { return spec_.width(spec_.outputs.at(i)); }
  int64_t output_last_dim(size_t i) const { return spec_.last_dim(spec_.outputs.at(i)); }
  size_t num_inputs() const { return spec_.inputs.size(); }
  size_t num_outputs() const { return spec_.outputs.size(); }

  void forward(int64_t rows, bool training, uint64_t key);
  // Expects output_grad(i) filled for every output; writes parameter gradients into `grads`.
  void backward(int64_t rows, uint64_t key, float* grads);

  // Regularizers: the penalty sum over weights of l1 * sum|w| + l2 * sum w^2 (Keras's, no 1/2),
  // and its gradient added into `grads`. Weights in plan order, elements in order: deterministic.
  double penalty() const;
  void add_penalty_gradients(float* grads) const;

 private:
  Pass make_pass(int64_t rows, bool training, uint64_t key, float* grads);

  GraphSpec spec_;
  Buffer params_;
  Slots slots_;
  std::vector<std::unique_ptr<Op>> ops_;
  std::vector<ParamSpec> regularized_;
  std::vector<bool> shares_params_;  // per op: a later op (earlier in backward) owns its weights' gradients
  Buffer shared_grads_;              // where such ops write before their gradients are added
  int64_t reserved_rows_ = 0;
};

}  // namespace fitcore
