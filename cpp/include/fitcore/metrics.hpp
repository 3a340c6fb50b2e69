#pragma once
// Streaming metrics: accumulated over the batches of an epoch, read at any point.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fitcore/buffer.hpp"
#include "fitcore/config.hpp"

namespace fitcore {

struct MetricArgs {
  const float* pred = nullptr;    // elements x dim
  const float* target = nullptr;  // elements x target_dim
  const int64_t* labels = nullptr;  // one class id in [0, dim) per element, for metrics that take_labels()
  const float* weight = nullptr;  // one per element, or null for all ones
  int64_t elements = 0;
  int64_t dim = 0;
  int64_t target_dim = 0;
};

class Metric {
 public:
  virtual ~Metric() = default;
  virtual void reset() = 0;
  virtual void update(const MetricArgs& args) = 0;
  virtual double result() const = 0;
  // The accumulators, each a sum over the samples seen so far: a data-parallel run adds them over
  // its processes to read the result of the whole batches.
  virtual std::vector<double*> state() = 0;
  // True: reads `labels` (class ids, exact at any size), not `target`.
  virtual bool takes_labels() const { return false; }
};

// The one registry of metrics by name; throws std::invalid_argument for an unknown name.
std::unique_ptr<Metric> make_metric(const std::string& name, const Config& config);

// Weighted streaming mean (Keras's Mean): total / count, summed in double in a fixed order.
class MeanTracker {
 public:
  void reset() { total_ = 0.0; count_ = 0.0; }
  void add(double value, double weight = 1.0) { total_ += value * weight; count_ += weight; }
  double result() const { return count_ > 0.0 ? total_ / count_ : 0.0; }
  std::vector<double*> state() { return {&total_, &count_}; }

 private:
  double total_ = 0.0;
  double count_ = 0.0;
};

}  // namespace fitcore
