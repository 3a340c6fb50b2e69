#pragma once
// Runs training, evaluation and prediction steps over a Network. Owns the gradient buffer,
// the losses, metrics and optimizer, and the seeded random key that feeds shuffling,
// dropout and noise.
#include <cstdint>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fitcore/buffer.hpp"
#include "fitcore/collective.hpp"
#include "fitcore/config.hpp"
#include "fitcore/data.hpp"
#include "fitcore/losses.hpp"
#include "fitcore/metrics.hpp"
#include "fitcore/network.hpp"
#include "fitcore/optimizer.hpp"
#include "fitcore/parallel.hpp"
#include "fitcore/schedules.hpp"

namespace fitcore {

struct OutputLossSpec {
  std::string name;       // registry name, e.g. "sparse_categorical_crossentropy"
  Config config;
  float weight = 1.0f;    // loss_weights entry
  int64_t target_width = 0;  // floats per sample in this output's targets
};

struct MetricSpec {
  std::string name;
  Config config;
  int output = 0;
  bool weighted = false;  // sample weights apply only to weighted_metrics
};

struct OptimizerSpec {
  std::string name;
  Config config;
};

class Trainer {
 public:
  Trainer(std::shared_ptr<Network> network, std::vector<OutputLossSpec> losses, OptimizerSpec optimizer,
          uint64_t seed);

  Network& network() { return *network_; }
  Optimizer& optimizer() { return *optimizer_; }
  // This step's rate: the schedule's value at the current iteration count, else the float.
  float learning_rate() const;
  void set_learning_rate(float lr) { learning_rate_ = lr; schedule_.reset(); }
  void set_schedule(const std::string& name, const Config& config) { schedule_ = make_schedule(name, config); }
  int64_t iterations() const { return iterations_; }
  void set_iterations(int64_t n) { iterations_ = n; }
  uint64_t seed() const { return seed_; }

  // Data-parallel training over the processes of `collective` (null: this process alone). Every
  // process calls the same methods in the same order with the same arguments, except for the rows
  // it is handed where a method says they are its own; each step then runs on this process's part
  // of the batch, the gradients are summed over the processes once and every process applies the
  // same update; losses, metrics and BatchNormalization's statistics are those of the whole batch.
  // Each call reads it once, atomically: a call on another thread meanwhile keeps the one it read.
  void set_collective(std::shared_ptr<Collective> collective) { std::atomic_store(&collective_, std::move(collective)); }

  // Metrics: results() is [loss, each output's loss when there are several, each metric]. Each
  // calling thread accumulates its own (the batch's targets, losses and metrics), so threads can
  // evaluate one model at once; release_thread_state() frees the calling thread's.
  void set_metrics(std::vector<MetricSpec> metrics);
  void reset_metrics();
  std::vector<double> results();
  void release_thread_state();

  // Training is exclusive: train_steps, train_batch and compute_gradients throw std::runtime_error
  // while another call of them runs. Inference (evaluate, predict) runs beside it and beside other
  // inference calls, each on its own workspace, and sees the weights of a finished step.
  // In-memory training: begin_epoch draws the epoch's order; train_steps runs steps from it,
  // starting a reshuffled pass when the data runs out (steps_per_epoch beyond one pass). Every
  // process holds the same arrays and reads only its part of each batch.
  void set_data(Arrays data);
  void clear_data() { data_ = Arrays{}; }
  void begin_epoch(int64_t epoch, bool shuffle, int64_t batch_size);
  void train_steps(int64_t steps);

  // One batch made of all rows of `batch` (generators, train_on_batch); data-parallel: this
  // process's part of the batch, the processes' parts following each other in rank order.
  void train_batch(const Arrays& batch);
  // Accumulates metrics over the rows of `data` in order, `batch_size` at a time. Data-parallel:
  // every process is handed the same rows and evaluates its part of each batch, or, with
  // `own_rows`, each process's `data` is its own part (possibly empty) of one batch.
  void evaluate(const Arrays& data, int64_t batch_size, bool own_rows = false);
  // Gradients of the training loss on all rows of `batch` (this process's alone), updating nothing.
  const Buffer& compute_gradients(const Arrays& batch);
  // Forward passes only; outputs[i] receives rows x output_width(i) floats.
  void predict(const Arrays& data, int64_t batch_size, const std::vector<MutableArrayRef>& outputs);

  // Every array of `data` fits the network (count, rows, widths, dtypes; class ids in range),
  // or std::invalid_argument naming the first that does not. The calls above check with it.
  void check_data(const Arrays& data, bool with_targets) const;

 private:
  // One thread's accumulators and current batch (targets and weights per output).
  struct Tally {
    std::vector<MetricSpec> metric_specs;  // what `metrics` were made from
    std::vector<std::unique_ptr<Metric>> metrics;
    uint64_t metrics_version = 0;
    std::vector<Buffer> targets, weights;
    std::vector<std::vector<int64_t>> labels;  // class ids, per output whose loss or metrics read them
    std::vector<bool> has_weights;
    Buffer element_losses;
    MeanTracker loss;
    std::vector<MeanTracker> output_losses;
    // Batches measured but not yet in the loss trackers (data-parallel: their loss sums are this
    // process's alone until results() adds them over the processes, all batches in one call).
    std::vector<double> pending_sums;     // per batch, one sum of element losses per output
    std::vector<int64_t> pending_rows;    // per batch, its rows over all processes
    std::vector<double> pending_penalty;  // per batch, the regularization penalty it was measured with
    void clear_pending() {
      pending_sums.clear();
      pending_rows.clear();
      pending_penalty.clear();
    }
  };
  class TrainingGuard;  // marks the trainer as training for one call

  Tally& tally();  // the calling thread's, with the current metrics
  // The pending batches into the loss trackers, their sums first added over the processes.
  void settle_losses(Tally& t, Collective* over);
  void gather_batch(const Arrays& data, const int64_t* index, int64_t first, int64_t rows, Workspace& ws, Tally& t);
  void step(int64_t rows, const Shard& shard, Tally& t);  // forward, loss, backward, update
  // Losses (+ gradients), metrics.
  void measure(int64_t rows, bool with_grad, const Shard& shard, const Workspace& ws, Tally& t);
  // This process's part of a batch of `rows` rows every process holds: `mine` rows from the
  // shard's first_row (one process: all of them).
  Shard split_batch(Collective* collective, int64_t rows, int64_t& mine) const;
  // Where this process's own `rows` rows sit in the batch all processes' rows make up.
  Shard place_own_rows(Collective* collective, int64_t rows);
  std::shared_ptr<Collective> collective() const { return std::atomic_load(&collective_); }
  int64_t elements_per_sample(size_t output) const;
  int64_t target_width(size_t output) const;  // values per sample the output's loss reads
  void next_pass();

  std::shared_ptr<Network> network_;
  std::vector<OutputLossSpec> loss_specs_;
  std::vector<std::unique_ptr<Loss>> losses_;
  std::vector<MetricSpec> metric_specs_;
  uint64_t metrics_version_ = 1;
  std::mutex tallies_mutex_;  // guards tallies_, metric_specs_ and metrics_version_
  std::map<std::thread::id, std::unique_ptr<Tally>> tallies_;
  std::atomic<bool> training_{false};
  std::unique_ptr<Optimizer> optimizer_;
  float learning_rate_;
  std::unique_ptr<LearningRateSchedule> schedule_;  // replaces learning_rate_ when set
  int64_t iterations_ = 0;
  uint64_t seed_;
  ThreadChooser thread_chooser_;  // all threads or one, by measured speed (train_steps)
  std::shared_ptr<Collective> collective_;  // data-parallel processes, or null; atomic_load / atomic_store only

  Buffer grads_;
  std::vector<bool> needs_floats_, needs_labels_;  // per output: what its loss and metrics read

  Arrays data_;
  std::vector<int64_t> order_;
  int64_t epoch_ = 0, pass_ = 0, cursor_ = 0, batch_size_ = 32;
  bool shuffle_ = true;
};

}  // namespace fitcore
