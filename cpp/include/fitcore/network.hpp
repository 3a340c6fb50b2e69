#pragma once
// A lowered model: the flat parameter buffer, the ops over it, and the workspaces (activation
// slots and op scratch) that passes write into.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "fitcore/buffer.hpp"
#include "fitcore/graph.hpp"
#include "fitcore/op.hpp"

namespace fitcore {

// The most values one slot may hold per sample, and in a batch: sizes in bytes stay far from overflow.
constexpr int64_t kMaxSlotWidth = int64_t{1} << 56;
// Everything a pass writes besides the parameters: every slot's values and gradients, and the ops
// (each op keeps its own scratch). Training uses the network's own workspace; each inference call
// checks one out of a pool, so threads predict at once without sharing anything they write.
struct Workspace {
  Slots slots;
  std::vector<std::unique_ptr<Op>> ops;
  int64_t reserved_rows = 0;
};

// Readers (inference passes) share the parameters; writers (the optimizer update, a training pass
// that moves BatchNormalization's statistics, a copy in) hold them alone, so a reader always sees
// the weights of a finished step. A waiting writer goes first: a stream of predict calls never
// starves a fit. Not recursive.
class ParamLock {
 public:
  void lock_shared();
  void unlock_shared();
  void lock();
  void unlock();

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int readers_ = 0, writers_waiting_ = 0;
  bool writer_ = false;
};

class Network;

// An inference workspace checked out of a network's pool; returned when destroyed.
class WorkspaceLease {
 public:
  WorkspaceLease(Network& network, std::unique_ptr<Workspace> workspace)
      : network_(network), workspace_(std::move(workspace)) {}
  ~WorkspaceLease();
  WorkspaceLease(const WorkspaceLease&) = delete;
  WorkspaceLease& operator=(const WorkspaceLease&) = delete;
  Workspace& operator*() { return *workspace_; }

 private:
  Network& network_;
  std::unique_ptr<Workspace> workspace_;
};

class Network {
 public:
  explicit Network(GraphSpec spec);

  const GraphSpec& spec() const { return spec_; }
  int64_t num_params() const { return spec_.num_params; }
  int64_t num_trainable() const { return spec_.num_trainable; }
  float* params() { return params_.data(); }
  const float* params() const { return params_.data(); }

  // --- the training workspace (one trainer at a time; see Trainer's training guard) ---------
  Workspace& training_workspace() { return training_; }
  // Sizes every slot and scratch buffer for batches of up to `rows` samples.
  void reserve(int64_t rows) { reserve(training_, rows); }
  // Buffers of the i-th model input / output for the current batch (rows x width).
  float* input_buffer(size_t i) { return input_buffer(training_, i); }
  const float* output(size_t i) const { return output(training_, i); }
  float* output_grad(size_t i) { return training_.slots.grad[static_cast<size_t>(spec_.outputs.at(i))].data(); }
  void forward(int64_t rows, bool training, uint64_t key, const Shard& shard = {}) {
    forward(training_, rows, training, key, shard);
  }
  // Expects output_grad(i) filled for every output; writes parameter gradients into `grads`.
  void backward(int64_t rows, uint64_t key, float* grads, const Shard& shard = {});

  // --- any workspace ---------------------------------------------------------------------------
  WorkspaceLease lease_workspace();  // an inference workspace of the pool (a new one when all are out)
  void reserve(Workspace& ws, int64_t rows);
  float* input_buffer(Workspace& ws, size_t i) {
    return ws.slots.value[static_cast<size_t>(spec_.inputs.at(i))].data();
  }
  const float* output(const Workspace& ws, size_t i) const {
    return ws.slots.value[static_cast<size_t>(spec_.outputs.at(i))].data();
  }
  void forward(Workspace& ws, int64_t rows, bool training, uint64_t key, const Shard& shard = {});

  int64_t input_width(size_t i) const { return spec_.width(spec_.inputs.at(i)); }
  int64_t output_width(size_t i) const { return spec_.width(spec_.outputs.at(i)); }
  int64_t output_last_dim(size_t i) const { return spec_.last_dim(spec_.outputs.at(i)); }
  size_t num_inputs() const { return spec_.inputs.size(); }
  size_t num_outputs() const { return spec_.outputs.size(); }

  // Regularizers: the penalty sum over weights of l1 * sum|w| + l2 * sum w^2 (Keras's, no 1/2),
  // and its gradient added into `grads`. Weights in plan order, elements in order: deterministic.
  double penalty() const;
  void add_penalty_gradients(float* grads) const;

  // --- the parameters as other threads and other networks see them ---------------------------
  ParamLock& param_lock() const { return lock_; }
  // A training forward may write non-trainable weights (BatchNormalization's moving statistics).
  bool has_non_trainable() const { return spec_.num_params > spec_.num_trainable; }
  // Counts writes to the parameters (steps, copies in): equal counts, equal values.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  void bump_generation() { generation_.fetch_add(1, std::memory_order_acq_rel); }
  // Range-checked copies under the parameter lock.
  void read_params(int64_t offset, int64_t size, float* out) const;
  void write_params(int64_t offset, int64_t size, const float* in);
  // Copies ranges of `from`'s parameters into this network's, all under one hold of both locks (so
  // they come from one finished step), taken in a fixed order so opposite copies cannot deadlock.
  struct ParamCopy {
    int64_t from_offset, to_offset, size;
  };
  void copy_params_from(const Network& from, const std::vector<ParamCopy>& copies);

 private:
  friend class WorkspaceLease;
  Pass make_pass(Workspace& ws, int64_t rows, bool training, uint64_t key, float* grads, const Shard& shard);
  std::unique_ptr<Workspace> make_workspace() const;
  void check_range(int64_t offset, int64_t size) const;

  GraphSpec spec_;
  Buffer params_;
  Workspace training_;
  std::vector<ParamSpec> regularized_;
  std::vector<bool> shares_params_;  // per op: a later op (earlier in backward) owns its weights' gradients
  Buffer shared_grads_;              // where such ops write before their gradients are added

  mutable ParamLock lock_;
  std::atomic<uint64_t> generation_{0};
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<Workspace>> pool_;  // idle inference workspaces, reused across calls
};

}  // namespace fitcore
