#pragma once
// The layer-op protocol: each op reads its input slots and writes its output slot
// (forward), then turns the output's gradient into input and parameter gradients (backward).
#include <cstdint>
#include <memory>
#include <vector>

#include "fitcore/buffer.hpp"
#include "fitcore/graph.hpp"

namespace fitcore {

class Collective;

// Where a pass's rows sit in a data-parallel step: this process holds rows [first_row, first_row +
// rows) of a batch of batch_rows rows spread over the processes of `collective`. Ops that draw
// random numbers key them by the batch's row, and ops with batch statistics sum them over the
// processes, so K processes compute what one would on the whole batch. One process: the default.
struct Shard {
  int64_t first_row = 0;
  int64_t batch_rows = -1;  // -1: the pass's own rows are the whole batch
  Collective* collective = nullptr;
};

// Every slot's values and gradients for one batch, rows x width, reused across batches.
struct Slots {
  std::vector<Buffer> value;
  std::vector<Buffer> grad;
  std::vector<int64_t> width;
};

// What one forward/backward pass over a batch needs to know.
struct Pass {
  int64_t rows = 0;        // samples in the batch
  bool training = false;   // dropout and noise act only in training
  uint64_t key = 0;        // this step's random key
  const float* params = nullptr;
  float* state = nullptr;  // the same buffer, writable: ops update their non-trainable weights
  float* grads = nullptr;  // parameter gradients; null outside training
  Slots* slots = nullptr;
  Shard shard;             // batch_rows always set (make_pass fills in the default)
};

// How backward delivers a gradient to one of the op's inputs.
enum class GradMode {
  skip,        // data input or integer ids: nobody needs it
  write,       // first contribution to that slot: overwrite
  accumulate,  // the slot feeds several ops: add
};

class Op {
 public:
  Op(const OpSpec& spec, const GraphSpec& graph);
  virtual ~Op() = default;

  virtual void forward(Pass& pass) = 0;
  virtual void backward(Pass& pass) = 0;
  // Allocates scratch for up to `rows` samples (called before a pass of a larger batch).
  virtual void reserve(int64_t rows) { (void)rows; }
  // Ops that read their inputs as integers (Embedding) never pass gradients back.
  virtual bool differentiable_input(size_t i) const { (void)i; return true; }

  const std::vector<int>& inputs() const { return inputs_; }
  int output() const { return output_; }
  void set_grad_mode(size_t input, GradMode mode) { grad_mode_.at(input) = mode; }

 protected:
  const float* input(const Pass& p, size_t i = 0) const {
    return p.slots->value[static_cast<size_t>(inputs_[i])].data();
  }
  float* input_grad(const Pass& p, size_t i = 0) const {
    return p.slots->grad[static_cast<size_t>(inputs_[i])].data();
  }
  float* output_value(const Pass& p) const { return p.slots->value[static_cast<size_t>(output_)].data(); }
  // The producer is the only reader of its output's gradient, so it may overwrite it.
  float* output_grad(const Pass& p) const { return p.slots->grad[static_cast<size_t>(output_)].data(); }
  const float* param(const Pass& p, size_t i) const { return p.params + params_.at(i).offset; }
  float* param_grad(const Pass& p, size_t i) const { return p.grads + params_.at(i).offset; }
  // A non-trainable weight the op updates itself (BatchNormalization's moving statistics).
  float* state(const Pass& p, size_t i) const { return p.state + params_.at(i).offset; }
  // Delivers g (rows x input width) to input i's gradient by its GradMode: copy, add or nothing.
  void send_grad(const Pass& p, size_t i, const float* g) const;
  int64_t input_width(size_t i = 0) const { return input_widths_.at(i); }
  int64_t output_width() const { return output_width_; }

  std::vector<int> inputs_;
  int output_;
  std::vector<ParamSpec> params_;
  std::vector<int64_t> input_widths_;
  int64_t output_width_;
  std::vector<GradMode> grad_mode_;
};

// The one registry of op kinds (ops/registry.cpp).
std::unique_ptr<Op> make_op(const OpSpec& spec, const GraphSpec& graph);

}  // namespace fitcore
