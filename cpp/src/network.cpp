#include "fitcore/network.hpp"

#include <algorithm>
#include <cmath>
#include <shared_mutex>
#include <stdexcept>

#include "fitcore/random.hpp"

namespace fitcore {

Network::Network(GraphSpec spec) : spec_(std::move(spec)) {
  const size_t num_slots = spec_.slot_shapes.size();
  // Per-sample sizes positive and small enough that no size computed from them overflows.
  for (const auto& shape : spec_.slot_shapes) {
    int64_t width = 1;
    for (int64_t d : shape) {
      if (d <= 0 || width > kMaxSlotWidth / d)
        throw std::invalid_argument("network: a slot shape is empty or too large");
      width *= d;
    }
  }
  for (const auto* ends : {&spec_.inputs, &spec_.outputs}) {
    if (ends->empty()) throw std::invalid_argument("network: no model inputs or no outputs");
    for (int s : *ends)
      if (s < 0 || static_cast<size_t>(s) >= num_slots) throw std::invalid_argument("network: bad slot id");
  }
  if (spec_.num_trainable > spec_.num_params || spec_.num_params < 0)
    throw std::invalid_argument("network: bad parameter counts");
  params_.assign(static_cast<size_t>(spec_.num_params), 0.0f);

  for (const OpSpec& op : spec_.ops) {
    for (const ParamSpec& w : op.params)
      if (w.offset < 0 || w.size < 0 || w.offset + w.size > spec_.num_params)
        throw std::invalid_argument("network: weight outside the parameter buffer in op '" + op.kind + "'");
    for (int s : op.inputs)
      if (s < 0 || static_cast<size_t>(s) >= num_slots) throw std::invalid_argument("network: bad slot id");
    if (op.output < 0 || static_cast<size_t>(op.output) >= num_slots)
      throw std::invalid_argument("network: bad slot id");
    for (const ParamSpec& w : op.params)
      if ((w.l1 != 0.0f || w.l2 != 0.0f) &&
          std::none_of(regularized_.begin(), regularized_.end(), [&](const ParamSpec& r) { return r.offset == w.offset; })) {
        if (w.offset + w.size > spec_.num_trainable)
          throw std::invalid_argument("network: a regularized weight must be trainable");
        regularized_.push_back(w);  // once per weight, however many ops share it
      }
  }
  for (int s : spec_.inputs)
    if (s < 0 || static_cast<size_t>(s) >= num_slots) throw std::invalid_argument("network: bad slot id");
  for (int s : spec_.outputs)
    if (s < 0 || static_cast<size_t>(s) >= num_slots) throw std::invalid_argument("network: bad slot id");

  // A layer called several times shares its weights between ops. Backward runs in reverse: the
  // first op to reach a weight writes its gradient, later ones write into scratch and add it.
  std::vector<int64_t> claimed;
  shares_params_.assign(spec_.ops.size(), false);
  for (size_t i = spec_.ops.size(); i-- > 0;) {
    size_t seen = 0;
    for (const ParamSpec& w : spec_.ops[i].params)
      seen += std::find(claimed.begin(), claimed.end(), w.offset) != claimed.end();
    if (seen != 0 && seen != spec_.ops[i].params.size())
      throw std::invalid_argument("network: op '" + spec_.ops[i].kind + "' shares only some of its weights");
    shares_params_[i] = seen != 0;
    if (seen == 0)
      for (const ParamSpec& w : spec_.ops[i].params) claimed.push_back(w.offset);
  }
  if (std::find(shares_params_.begin(), shares_params_.end(), true) != shares_params_.end())
    shared_grads_.assign(static_cast<size_t>(spec_.num_params), 0.0f);
  training_ = std::move(*make_workspace());
}

std::unique_ptr<Workspace> Network::make_workspace() const {
  auto ws = std::make_unique<Workspace>();
  const size_t num_slots = spec_.slot_shapes.size();
  ws->slots.value.resize(num_slots);
  ws->slots.grad.resize(num_slots);
  for (size_t s = 0; s < num_slots; ++s) ws->slots.width.push_back(spec_.width(static_cast<int>(s)));
  for (const OpSpec& op : spec_.ops) ws->ops.push_back(make_op(op, spec_));

  // Backward visits ops in reverse: the first op to reach a slot writes its gradient, later ones
  // add to it. Model outputs start written (by the losses); data inputs take no gradient.
  std::vector<bool> written(num_slots, false), is_data(num_slots, false);
  for (int s : spec_.outputs) written[static_cast<size_t>(s)] = true;
  for (int s : spec_.inputs) is_data[static_cast<size_t>(s)] = true;
  for (auto op = ws->ops.rbegin(); op != ws->ops.rend(); ++op) {
    for (size_t i = 0; i < (*op)->inputs().size(); ++i) {
      const auto slot = static_cast<size_t>((*op)->inputs()[i]);
      if (is_data[slot] || !(*op)->differentiable_input(i)) continue;
      (*op)->set_grad_mode(i, written[slot] ? GradMode::accumulate : GradMode::write);
      written[slot] = true;
    }
  }
  return ws;
}

WorkspaceLease Network::lease_workspace() {
  {
    std::lock_guard<std::mutex> hold(pool_mutex_);
    if (!pool_.empty()) {
      std::unique_ptr<Workspace> ws = std::move(pool_.back());
      pool_.pop_back();
      return WorkspaceLease(*this, std::move(ws));
    }
  }
  return WorkspaceLease(*this, make_workspace());  // all out: one more, kept for reuse afterwards
}

WorkspaceLease::~WorkspaceLease() {
  std::lock_guard<std::mutex> hold(network_.pool_mutex_);
  network_.pool_.push_back(std::move(workspace_));
}

void Network::reserve(Workspace& ws, int64_t rows) {
  if (rows <= ws.reserved_rows) return;
  for (int64_t width : ws.slots.width)
    if (width > 0 && rows > kMaxSlotWidth / width)
      throw std::length_error("network: a batch of " + std::to_string(rows) + " rows is too large");
  for (size_t s = 0; s < ws.slots.value.size(); ++s) {
    ensure_size(ws.slots.value[s], rows * ws.slots.width[s]);
    // Zero-filled: a slot no op writes a gradient into (a dead branch) contributes nothing.
    ws.slots.grad[s].resize(static_cast<size_t>(rows * ws.slots.width[s]), 0.0f);
  }
  for (auto& op : ws.ops) op->reserve(rows);
  ws.reserved_rows = rows;
}

Pass Network::make_pass(Workspace& ws, int64_t rows, bool training, uint64_t key, float* grads,
                        const Shard& shard) {
  if (rows > ws.reserved_rows) throw std::logic_error("network: batch larger than reserved");
  const int64_t batch_rows = shard.batch_rows < 0 ? rows : shard.batch_rows;
  if (shard.first_row < 0 || shard.first_row + rows > batch_rows)
    throw std::logic_error("network: shard rows outside their batch");
  Pass p;
  p.rows = rows;
  p.training = training;
  p.key = key;
  p.params = params_.data();
  p.state = params_.data();
  p.grads = grads;
  p.slots = &ws.slots;
  p.shard = shard;
  p.shard.batch_rows = batch_rows;
  return p;
}

void Network::forward(Workspace& ws, int64_t rows, bool training, uint64_t key, const Shard& shard) {
  Pass p = make_pass(ws, rows, training, key, nullptr, shard);
  for (size_t i = 0; i < ws.ops.size(); ++i) {
    p.key = derive_key(key, i);  // each op draws its own random stream
    ws.ops[i]->forward(p);
  }
}

void Network::backward(int64_t rows, uint64_t key, float* grads, const Shard& shard) {
  auto& ops = training_.ops;
  Pass p = make_pass(training_, rows, true, key, grads, shard);
  for (size_t i = ops.size(); i-- > 0;) {
    p.key = derive_key(key, i);
    if (!shares_params_[i]) {
      ops[i]->backward(p);
      continue;
    }
    Pass scratch = p;
    scratch.grads = shared_grads_.data();
    ops[i]->backward(scratch);
    for (const ParamSpec& w : spec_.ops[i].params)
      for (int64_t k = w.offset; k < w.offset + w.size; ++k) grads[k] += shared_grads_[static_cast<size_t>(k)];
  }
}

double Network::penalty() const {
  double total = 0.0;
  for (const ParamSpec& w : regularized_) {
    const float* v = params_.data() + w.offset;
    double abs_sum = 0.0, sq_sum = 0.0;
    for (int64_t i = 0; i < w.size; ++i) {
      abs_sum += std::fabs(v[i]);
      sq_sum += static_cast<double>(v[i]) * v[i];
    }
    total += w.l1 * abs_sum + w.l2 * sq_sum;
  }
  return total;
}

void Network::add_penalty_gradients(float* grads) const {
  for (const ParamSpec& w : regularized_) {
    const float* v = params_.data() + w.offset;
    float* g = grads + w.offset;
    const float l1 = w.l1, two_l2 = 2.0f * w.l2;
#pragma omp parallel for simd schedule(static) if (w.size > kParallelGrain)
    for (int64_t i = 0; i < w.size; ++i)  // d|w|/dw = sign(w), 0 at 0 as in Keras's backends
      g[i] += l1 * static_cast<float>((v[i] > 0.0f) - (v[i] < 0.0f)) + two_l2 * v[i];
  }
}

void Network::check_range(int64_t offset, int64_t size) const {
  if (offset < 0 || size < 0 || offset > spec_.num_params || size > spec_.num_params - offset)
    throw std::out_of_range("network: parameter range outside the buffer");
}

void Network::read_params(int64_t offset, int64_t size, float* out) const {
  check_range(offset, size);
  std::shared_lock<ParamLock> hold(lock_);
  std::copy_n(params_.data() + offset, size, out);
}

void Network::write_params(int64_t offset, int64_t size, const float* in) {
  check_range(offset, size);
  std::lock_guard<ParamLock> hold(lock_);
  std::copy_n(in, size, params_.data() + offset);
  bump_generation();
}

void Network::copy_params_from(const Network& from, const std::vector<ParamCopy>& copies) {
  for (const ParamCopy& c : copies) {
    from.check_range(c.from_offset, c.size);
    check_range(c.to_offset, c.size);
  }
  auto copy_all = [&] {
    for (const ParamCopy& c : copies)
      std::copy_n(from.params_.data() + c.from_offset, c.size, params_.data() + c.to_offset);
  };
  if (&from == this) {
    std::lock_guard<ParamLock> hold(lock_);
    copy_all();
  } else if (&from < this) {  // locks in address order
    std::shared_lock<ParamLock> source(from.lock_);
    std::lock_guard<ParamLock> target(lock_);
    copy_all();
  } else {
    std::lock_guard<ParamLock> target(lock_);
    std::shared_lock<ParamLock> source(from.lock_);
    copy_all();
  }
  bump_generation();
}

void ParamLock::lock_shared() {
  std::unique_lock<std::mutex> hold(mutex_);
  changed_.wait(hold, [this] { return !writer_ && writers_waiting_ == 0; });
  ++readers_;
}

void ParamLock::unlock_shared() {
  std::lock_guard<std::mutex> hold(mutex_);
  if (--readers_ == 0) changed_.notify_all();
}

void ParamLock::lock() {
  std::unique_lock<std::mutex> hold(mutex_);
  ++writers_waiting_;
  changed_.wait(hold, [this] { return !writer_ && readers_ == 0; });
  --writers_waiting_;
  writer_ = true;
}

void ParamLock::unlock() {
  {
    std::lock_guard<std::mutex> hold(mutex_);
    writer_ = false;
  }
  changed_.notify_all();
}

}  // namespace fitcore
