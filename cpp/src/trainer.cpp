#include "fitcore/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>

#include "fitcore/random.hpp"

namespace fitcore {
namespace {

std::shared_ptr<Network> require_network(std::shared_ptr<Network> network) {
  if (!network) throw std::invalid_argument("trainer: no network given");
  return network;
}

}  // namespace

Trainer::Trainer(std::shared_ptr<Network> network, std::vector<OutputLossSpec> losses, OptimizerSpec optimizer,
                 uint64_t seed)
    : network_(require_network(std::move(network))),
      loss_specs_(std::move(losses)),
      optimizer_(make_optimizer(optimizer.name, optimizer.config, network_->num_trainable())),
      learning_rate_(static_cast<float>(optimizer.config.number("learning_rate"))),
      seed_(seed) {
  if (loss_specs_.size() != network_->num_outputs())
    throw std::invalid_argument("trainer: one loss per model output expected");
  for (const auto& spec : loss_specs_) losses_.push_back(make_loss(spec.name, spec.config));
  for (size_t o = 0; o < losses_.size(); ++o)
    if (loss_specs_[o].target_width != target_width(o))
      throw std::invalid_argument("trainer: output " + std::to_string(o) + "'s loss '" + loss_specs_[o].name +
                                  "' reads " + std::to_string(target_width(o)) + " target values per sample, not " +
                                  std::to_string(loss_specs_[o].target_width));
  set_metrics({});  // what each output's targets are gathered as
  grads_.assign(static_cast<size_t>(network_->num_params()), 0.0f);
  optimizer_->set_variables(trainable_variables(network_->spec()));
}

// Holds the trainer's training flag for one call: a second training call meanwhile (another
// thread, or a callback of the running fit reaching the core) is an error, never a data race.
class Trainer::TrainingGuard {
 public:
  explicit TrainingGuard(std::atomic<bool>& flag) : flag_(flag) {
    if (flag_.exchange(true, std::memory_order_acquire))
      throw std::runtime_error("trainer: this model is already training (one fit or train_on_batch at a time)");
  }
  ~TrainingGuard() { flag_.store(false, std::memory_order_release); }
  TrainingGuard(const TrainingGuard&) = delete;
  TrainingGuard& operator=(const TrainingGuard&) = delete;

 private:
  std::atomic<bool>& flag_;
};

float Trainer::learning_rate() const {
  return schedule_ ? static_cast<float>((*schedule_)(iterations_)) : learning_rate_;
}

void Trainer::set_metrics(std::vector<MetricSpec> metrics) {
  std::vector<bool> labels_needed(losses_.size()), floats_needed(losses_.size());  // kept only if all fit
  for (size_t o = 0; o < losses_.size(); ++o) {
    labels_needed[o] = losses_[o]->takes_labels();
    floats_needed[o] = !losses_[o]->takes_labels();
  }
  for (const auto& spec : metrics) {
    if (spec.output < 0 || static_cast<size_t>(spec.output) >= losses_.size())
      throw std::invalid_argument("trainer: metric for a missing output");
    const auto metric = make_metric(spec.name, spec.config);  // an unknown name throws here, not in a later call
    // The output's targets are laid out for its loss; the metric must read them the same way.
    const auto o = static_cast<size_t>(spec.output);
    const bool labels = metric->takes_labels();
    const int64_t wanted = labels ? elements_per_sample(o) : network_->output_width(o);
    if (wanted != target_width(o))
      throw std::invalid_argument("trainer: metric '" + spec.name + "' reads " + std::to_string(wanted) +
                                  " target values per sample, but output " + std::to_string(o) + "'s targets have " +
                                  std::to_string(target_width(o)));
    (labels ? labels_needed : floats_needed)[o] = true;
  }
  std::lock_guard<std::mutex> hold(tallies_mutex_);
  needs_labels_ = std::move(labels_needed);
  needs_floats_ = std::move(floats_needed);
  metric_specs_ = std::move(metrics);
  ++metrics_version_;  // every thread's tally remakes its metrics on next use
}

Trainer::Tally& Trainer::tally() {
  std::lock_guard<std::mutex> hold(tallies_mutex_);
  std::unique_ptr<Tally>& t = tallies_[std::this_thread::get_id()];
  if (!t) {
    t = std::make_unique<Tally>();
    t->targets.resize(losses_.size());
    t->labels.resize(losses_.size());
    t->weights.resize(losses_.size());
    t->has_weights.assign(losses_.size(), false);
    t->output_losses.resize(losses_.size());
  }
  if (t->metrics_version != metrics_version_) {
    t->metrics.clear();
    t->metric_specs = metric_specs_;
    for (const auto& spec : metric_specs_) t->metrics.push_back(make_metric(spec.name, spec.config));
    t->metrics_version = metrics_version_;
  }
  return *t;
}

void Trainer::release_thread_state() {
  std::lock_guard<std::mutex> hold(tallies_mutex_);
  tallies_.erase(std::this_thread::get_id());
}

int64_t Trainer::elements_per_sample(size_t o) const {
  return network_->output_width(o) / network_->output_last_dim(o);
}

int64_t Trainer::target_width(size_t o) const {
  return losses_[o]->takes_labels() ? elements_per_sample(o) : network_->output_width(o);
}

void Trainer::check_data(const Arrays& data, bool with_targets) const {
  const Network& net = *network_;
  const auto count = [](const char* what, size_t got, size_t want) {
    if (got != want)
      throw std::invalid_argument("trainer: expected " + std::to_string(want) + " " + what + " arrays, got " +
                                  std::to_string(got));
  };
  count("input", data.inputs.size(), net.num_inputs());
  const int64_t n = data.rows();
  for (size_t i = 0; i < net.num_inputs(); ++i)
    check_array(data.inputs[i], n, net.input_width(i), false, "trainer: input " + std::to_string(i));
  if (!with_targets) return;
  count("target", data.targets.size(), net.num_outputs());
  if (!data.weights.empty()) count("sample weight", data.weights.size(), net.num_outputs());
  for (size_t o = 0; o < net.num_outputs(); ++o) {
    const std::string what = "trainer: targets of output " + std::to_string(o);
    check_array(data.targets[o], n, target_width(o), true, what);
    if (needs_labels_[o]) check_labels(data.targets[o], net.output_last_dim(o), what);
    if (data.weights.empty() || !data.weights[o].data) continue;
    const ArrayRef& w = data.weights[o];
    const std::string weight = "trainer: sample weights of output " + std::to_string(o);
    check_array(w, n, w.width == 1 ? 1 : elements_per_sample(o), false, weight);
  }
}

void Trainer::settle_losses(Tally& t, Collective* over) {
  const size_t outputs = losses_.size();
  if (over) over->sum(t.pending_sums.data(), static_cast<int64_t>(t.pending_sums.size()));
  for (size_t b = 0; b < t.pending_rows.size(); ++b) {
    const int64_t rows = t.pending_rows[b];
    double total = 0.0;
    for (size_t o = 0; o < outputs; ++o) {
      const int64_t elements = rows * elements_per_sample(o);
      const double value = static_cast<float>(t.pending_sums[b * outputs + o] / static_cast<double>(elements));
      t.output_losses[o].add(value, static_cast<double>(rows));
      total += loss_specs_[o].weight * value;
    }
    t.loss.add(total + t.pending_penalty[b], static_cast<double>(rows));
  }
  t.clear_pending();
}

void Trainer::reset_metrics() {
  Tally& t = tally();
  t.clear_pending();
  t.loss.reset();
  for (auto& tracker : t.output_losses) tracker.reset();
  for (auto& m : t.metrics) m->reset();
}

std::vector<double> Trainer::results() {
  Tally& t = tally();
  const std::shared_ptr<Collective> collective = this->collective();
  settle_losses(t, collective.get());  // data-parallel: every process's loss sums, added in one call
  std::vector<double> out{t.loss.result()};
  if (t.output_losses.size() > 1)
    for (const auto& tracker : t.output_losses) out.push_back(tracker.result());
  // Data-parallel: each process's metrics saw its own rows. Their accumulators, added over the
  // processes, give the results; the local ones are put back so later batches add to them alone.
  std::vector<double*> state;
  std::vector<double> local, summed;
  if (collective) {
    for (const auto& m : t.metrics)
      for (double* v : m->state()) state.push_back(v);
    for (double* v : state) local.push_back(*v);
    summed = local;
    collective->sum(summed.data(), static_cast<int64_t>(summed.size()));
    for (size_t i = 0; i < state.size(); ++i) *state[i] = summed[i];
  }
  for (const auto& m : t.metrics) out.push_back(m->result());
  for (size_t i = 0; i < state.size(); ++i) *state[i] = local[i];
  return out;
}

Shard Trainer::split_batch(Collective* collective, int64_t rows, int64_t& mine) const {
  Shard shard;
  mine = rows;
  if (!collective) return shard;
  const int64_t k = collective->size(), r = collective->rank();
  shard.first_row = rows * r / k;
  mine = rows * (r + 1) / k - shard.first_row;
  shard.batch_rows = rows;
  shard.collective = collective;
  return shard;
}

Shard Trainer::place_own_rows(Collective* collective, int64_t rows) {
  Shard shard;
  if (!collective) return shard;
  std::vector<double> counts(static_cast<size_t>(collective->size()), 0.0);
  counts[static_cast<size_t>(collective->rank())] = static_cast<double>(rows);
  collective->sum(counts.data(), static_cast<int64_t>(counts.size()));
  shard.batch_rows = 0;
  for (int r = 0; r < collective->size(); ++r) {
    if (r == collective->rank()) shard.first_row = shard.batch_rows;
    shard.batch_rows += static_cast<int64_t>(counts[static_cast<size_t>(r)]);
  }
  if (shard.batch_rows == 0) throw std::invalid_argument("trainer: no process has rows in this batch");
  shard.collective = collective;
  return shard;
}

void Trainer::set_data(Arrays data) {
  check_data(data, true);
  data_ = std::move(data);
  cursor_ = 0;
  order_.clear();
}

void Trainer::begin_epoch(int64_t epoch, bool shuffle, int64_t batch_size) {
  if (batch_size <= 0) throw std::invalid_argument("trainer: batch_size must be positive");
  epoch_ = epoch;
  pass_ = -1;
  shuffle_ = shuffle;
  batch_size_ = batch_size;
  next_pass();
}

void Trainer::next_pass() {
  ++pass_;
  cursor_ = 0;
  if (shuffle_)
    epoch_permutation(seed_, epoch_, pass_, data_.rows(), order_);
  else
    order_.clear();
}

void Trainer::train_steps(int64_t steps) {
  TrainingGuard training(training_);
  const int64_t n = data_.rows();
  if (n == 0) throw std::logic_error("trainer: no training data set");
  Tally& t = tally();
  const int max_threads = num_threads();
  ScopedThreads threads(max_threads);  // the caller's count again however this returns
  const std::shared_ptr<Collective> collective = this->collective();
  for (int64_t s = 0; s < steps; ++s) {
    if (cursor_ >= n) next_pass();
    const int64_t rows = std::min(batch_size_, n - cursor_);
    int64_t mine = 0;
    const Shard shard = split_batch(collective.get(), rows, mine);
    threads.set(thread_chooser_.next(max_threads));
    const auto start = std::chrono::steady_clock::now();
    gather_batch(data_, order_.empty() ? nullptr : order_.data(), cursor_ + shard.first_row, mine,
                 network_->training_workspace(), t);
    step(mine, shard, t);
    thread_chooser_.record(rows, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    cursor_ += rows;
  }
}

void Trainer::train_batch(const Arrays& batch) {
  check_data(batch, true);
  TrainingGuard training(training_);
  ScopedThreads threads(num_threads());
  Tally& t = tally();
  const std::shared_ptr<Collective> collective = this->collective();
  const Shard shard = place_own_rows(collective.get(), batch.rows());
  gather_batch(batch, nullptr, 0, batch.rows(), network_->training_workspace(), t);
  step(batch.rows(), shard, t);
}

const Buffer& Trainer::compute_gradients(const Arrays& batch) {
  check_data(batch, true);
  TrainingGuard training(training_);
  ScopedThreads threads(num_threads());
  Network& net = *network_;
  Tally& t = tally();
  const int64_t rows = batch.rows();
  gather_batch(batch, nullptr, 0, rows, net.training_workspace(), t);
  const uint64_t key = derive_key(seed_, 0x5EED, static_cast<uint64_t>(iterations_));
  std::unique_lock<ParamLock> writing(net.param_lock(), std::defer_lock);
  if (net.has_non_trainable()) writing.lock();  // BatchNormalization's statistics move
  net.forward(rows, true, key);
  measure(rows, true, Shard{}, net.training_workspace(), t);
  net.backward(rows, key, grads_.data());
  net.add_penalty_gradients(grads_.data());
  if (writing.owns_lock()) net.bump_generation();
  return grads_;
}

void Trainer::evaluate(const Arrays& data, int64_t batch_size, bool own_rows) {
  if (batch_size <= 0 && !own_rows) throw std::invalid_argument("trainer: batch_size must be positive");
  check_data(data, true);
  ScopedThreads threads(num_threads());
  Network& net = *network_;
  WorkspaceLease lease = net.lease_workspace();
  Tally& t = tally();
  const int64_t n = data.rows();
  // own_rows: one batch, of which `data` is this process's part; it may be empty, and still meets
  // the other processes' in the collectives.
  if (own_rows) batch_size = std::max<int64_t>(n, 1);
  const std::shared_ptr<Collective> collective = this->collective();
  for (int64_t first = 0; first < n || (own_rows && first == 0); first += batch_size) {
    const int64_t rows = std::min(batch_size, n - first);
    int64_t mine = rows;
    const Shard shard = own_rows ? place_own_rows(collective.get(), rows) : split_batch(collective.get(), rows, mine);
    gather_batch(data, nullptr, own_rows ? first : first + shard.first_row, mine, *lease, t);
    std::shared_lock<ParamLock> reading(net.param_lock());  // one finished step's weights per batch
    net.forward(*lease, mine, false, 0, shard);
    measure(mine, false, shard, *lease, t);
  }
}

void Trainer::predict(const Arrays& data, int64_t batch_size, const std::vector<MutableArrayRef>& outputs) {
  if (batch_size <= 0) throw std::invalid_argument("trainer: batch_size must be positive");
  check_data(data, false);
  ScopedThreads threads(num_threads());
  Network& net = *network_;
  const int64_t n = data.rows();
  if (outputs.size() != net.num_outputs())
    throw std::invalid_argument("trainer: expected " + std::to_string(net.num_outputs()) + " output arrays, got " +
                                std::to_string(outputs.size()));
  for (size_t o = 0; o < outputs.size(); ++o)
    if (!outputs[o].data || outputs[o].rows != n || outputs[o].width != net.output_width(o))
      throw std::invalid_argument("trainer: output array " + std::to_string(o) + " must have " + std::to_string(n) +
                                  " rows of " + std::to_string(net.output_width(o)) + " floats, got " +
                                  std::to_string(outputs[o].rows) + " rows of " + std::to_string(outputs[o].width));
  WorkspaceLease lease = net.lease_workspace();
  Workspace& ws = *lease;
  for (int64_t first = 0; first < n; first += batch_size) {
    const int64_t rows = std::min(batch_size, n - first);
    net.reserve(ws, rows);
    for (size_t i = 0; i < net.num_inputs(); ++i)
      gather_rows(data.inputs[i], nullptr, first, rows, net.input_buffer(ws, i));
    {
      std::shared_lock<ParamLock> reading(net.param_lock());  // one finished step's weights per batch
      net.forward(ws, rows, false, 0);
    }
    for (size_t o = 0; o < net.num_outputs(); ++o) {
      const int64_t w = net.output_width(o);
      std::copy(net.output(ws, o), net.output(ws, o) + rows * w, outputs[o].data + first * w);
    }
  }
}

void Trainer::gather_batch(const Arrays& data, const int64_t* index, int64_t first, int64_t rows, Workspace& ws,
                           Tally& t) {
  Network& net = *network_;
  net.reserve(ws, rows);
  for (size_t i = 0; i < net.num_inputs(); ++i) gather_rows(data.inputs[i], index, first, rows, net.input_buffer(ws, i));
  for (size_t o = 0; o < losses_.size(); ++o) {
    const ArrayRef& target = data.targets[o];
    if (needs_floats_[o]) {
      ensure_size(t.targets[o], rows * target.width);
      gather_rows(target, index, first, rows, t.targets[o].data());
    }
    if (needs_labels_[o]) {  // checked again per batch: the caller's arrays may change after set_data
      if (static_cast<int64_t>(t.labels[o].size()) < rows * target.width)
        t.labels[o].resize(static_cast<size_t>(rows * target.width));
      gather_labels(target, index, first, rows, net.output_last_dim(o), t.labels[o].data(),
                    "trainer: targets of output " + std::to_string(o));
    }
    t.has_weights[o] = o < data.weights.size() && data.weights[o].data != nullptr;
    if (!t.has_weights[o]) continue;
    // One weight per loss element: a per-sample weight is repeated over the sample's timesteps.
    const ArrayRef& w = data.weights[o];
    const int64_t per_sample = elements_per_sample(o);
    ensure_size(t.weights[o], rows * per_sample);
    gather_rows(w, index, first, rows, t.weights[o].data());
    if (w.width != per_sample)
      for (int64_t r = rows; r-- > 0;) {  // spread in place, last row first
        const float v = t.weights[o][static_cast<size_t>(r)];
        std::fill_n(t.weights[o].data() + r * per_sample, per_sample, v);
      }
  }
}

void Trainer::measure(int64_t rows, bool with_grad, const Shard& shard, const Workspace& ws, Tally& t) {
  Network& net = *network_;
  const int64_t batch_rows = shard.batch_rows < 0 ? rows : shard.batch_rows;
  const size_t first_sum = t.pending_sums.size();
  t.pending_sums.resize(first_sum + losses_.size(), 0.0);  // capacity kept across batches: no allocation
  for (size_t o = 0; o < losses_.size(); ++o) {
    const int64_t dim = net.output_last_dim(o);
    const int64_t per_sample = elements_per_sample(o);
    const int64_t elements = rows * per_sample;
    ensure_size(t.element_losses, elements);
    LossArgs a;
    a.pred = net.output(ws, o);
    a.target = t.targets[o].data();
    a.labels = t.labels[o].data();
    a.weight = t.has_weights[o] ? t.weights[o].data() : nullptr;
    a.elements = elements;
    a.dim = dim;
    a.target_dim = loss_specs_[o].target_width / per_sample;
    a.losses = t.element_losses.data();
    a.grad = with_grad ? net.output_grad(o) : nullptr;  // only training passes take gradients
    // The mean over the whole batch's elements (every process's, when data-parallel).
    a.grad_scale = loss_specs_[o].weight / static_cast<float>(batch_rows * per_sample);
    losses_[o]->compute(a);
    double& sum = t.pending_sums[first_sum + o];
    for (int64_t e = 0; e < elements; ++e) sum += t.element_losses[static_cast<size_t>(e)];  // in order: thread-count independent
  }
  t.pending_rows.push_back(batch_rows);
  t.pending_penalty.push_back(net.penalty());  // as Keras: the reported loss includes regularizers
  if (!shard.collective) settle_losses(t, nullptr);  // one process: no sums to wait for

  for (size_t m = 0; m < t.metrics.size(); ++m) {
    const auto o = static_cast<size_t>(t.metric_specs[m].output);
    const int64_t dim = net.output_last_dim(o);
    const int64_t elements = rows * elements_per_sample(o);
    MetricArgs a;
    a.pred = net.output(ws, o);
    a.target = t.targets[o].data();
    a.labels = t.labels[o].data();
    a.weight = t.metric_specs[m].weighted && t.has_weights[o] ? t.weights[o].data() : nullptr;
    a.elements = elements;
    a.dim = dim;
    a.target_dim = loss_specs_[o].target_width / elements_per_sample(o);
    t.metrics[m]->update(a);
  }
}

void Trainer::step(int64_t rows, const Shard& shard, Tally& t) {
  Network& net = *network_;
  const uint64_t key = derive_key(seed_, 0x5EED, static_cast<uint64_t>(iterations_));
  // Readers on other threads must never see a half-applied step: the update holds the parameters
  // alone, and so does the whole pass when it moves non-trainable weights (BatchNormalization).
  std::unique_lock<ParamLock> writing(net.param_lock(), std::defer_lock);
  if (net.has_non_trainable()) writing.lock();
  net.forward(rows, true, key, shard);
  measure(rows, true, shard, net.training_workspace(), t);
  net.backward(rows, key, grads_.data(), shard);
  // Data-parallel: one sum of the trainable weights' gradients over the processes (each process's
  // are already scaled by the whole batch's size), then every process applies the same update.
  if (shard.collective) shard.collective->sum(grads_.data(), net.num_trainable());
  net.add_penalty_gradients(grads_.data());
  const float lr = learning_rate();  // Keras reads the rate before incrementing iterations
  ++iterations_;
  if (!writing.owns_lock()) writing.lock();
  optimizer_->apply(net.params(), grads_.data(), net.num_trainable(), lr, iterations_);
  net.bump_generation();
}

}  // namespace fitcore
