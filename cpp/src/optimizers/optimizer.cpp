#include "fitcore/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "fitcore/kernels/vecmath.hpp"
#include "fitcore/optimizers/adagrad.hpp"
#include "fitcore/optimizers/adam.hpp"
#include "fitcore/optimizers/rmsprop.hpp"
#include "fitcore/optimizers/sgd.hpp"
#include "fitcore/parallel.hpp"

namespace fitcore {
namespace {

// Sum of squares in double over fixed blocks (each summed in fixed lanes by the vector kernel), the
// blocks combined in order: the same result for any thread count and at every instruction-set level.
double sum_of_squares(const float* g, int64_t n) {
  constexpr int64_t kBlock = 1 << 14;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(static_cast<size_t>(blocks), 0.0);
  const kernels::VecMath& k = kernels::vecmath();
  parallel_for(blocks, n > kParallelGrain, [&](int64_t b) {
    const int64_t lo = b * kBlock, hi = std::min(n, lo + kBlock);
    partial[static_cast<size_t>(b)] = k.sum_of_squares(g + lo, hi - lo);
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

// g = g * c / d, vectorised at the CPU's level.
void scale(float* g, int64_t n, float c, float d) {
  const kernels::VecMath& k = kernels::vecmath();
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { k.scale_ratio(g + lo, hi - lo, c, d); });
}

}  // namespace

float* Optimizer::add_state(const std::string& name, int64_t n, float initial) {
  state_names_.push_back(name);
  state_.emplace_back(static_cast<size_t>(n), initial);
  return state_.back().data();
}

void Optimizer::configure_base(const Config& c) {
  clipnorm_ = static_cast<float>(c.number("clipnorm", 0.0));
  clipvalue_ = static_cast<float>(c.number("clipvalue", 0.0));
  global_clipnorm_ = static_cast<float>(c.number("global_clipnorm", 0.0));
  weight_decay_ = static_cast<float>(c.number("weight_decay", 0.0));
}

void Optimizer::clip(float* g, int64_t n) const {
  // Keras's _clip_gradients: only one of the three is ever set.
  if (clipnorm_ > 0.0f) {
    // Each weight's gradient: g * c / max(||g||, c).
    const std::vector<ParamSpec> whole{{0, n}};
    for (const ParamSpec& v : variables_.empty() ? whole : variables_) {
      const auto norm = static_cast<float>(std::sqrt(sum_of_squares(g + v.offset, v.size)));
      const float c = clipnorm_, denominator = std::max(norm, c);
      scale(g + v.offset, v.size, c, denominator);
    }
  } else if (global_clipnorm_ > 0.0f) {
    // One norm over all trainable gradients; a non-finite norm makes every gradient NaN, as Keras.
    const auto norm = static_cast<float>(std::sqrt(sum_of_squares(g, n)));
    const float c = global_clipnorm_;
    scale(g, n, c * std::min(1.0f / norm, 1.0f / c) + (norm - norm), 1.0f);  // x / 1 is exact
  } else if (clipvalue_ > 0.0f) {
    const kernels::VecMath& k = kernels::vecmath();
    const float v = clipvalue_;
    parallel_chunks(n, [&](int64_t lo, int64_t hi) { k.clip_value(g + lo, hi - lo, v); });
  }
}

void Optimizer::decay(float* w, int64_t n, float lr) const {
  const float wd = weight_decay_;
  auto sweep = [wd, lr](float* v, int64_t size) {
#pragma omp parallel for simd schedule(static) if (size > kParallelGrain)
    for (int64_t i = 0; i < size; ++i) v[i] -= v[i] * wd * lr;
  };
  if (excluded_.empty()) return sweep(w, n);
  for (const ParamSpec& v : variables_) {
    const bool skip = std::any_of(excluded_.begin(), excluded_.end(),
                                  [&v](const ParamSpec& e) { return e.offset == v.offset; });
    if (!skip) sweep(w + v.offset, v.size);
  }
}

void Optimizer::apply(float* w, float* g, int64_t n, float lr, int64_t step) {
  clip(g, n);
  if (weight_decay_ > 0.0f) decay(w, n, lr);
  update(w, g, n, lr, step);
}

std::vector<ParamSpec> trainable_variables(const GraphSpec& graph) {
  std::map<int64_t, int64_t> by_offset;  // shared weights appear in several ops: keep each once
  for (const OpSpec& op : graph.ops)
    for (const ParamSpec& p : op.params)
      if (p.size > 0 && p.offset + p.size <= graph.num_trainable) by_offset[p.offset] = p.size;
  std::vector<ParamSpec> out;
  for (const auto& [offset, size] : by_offset) out.push_back(ParamSpec{offset, size});
  return out;
}

// The one place optimizers are named. Adding one: its file plus one line here.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, const Config& config, int64_t n) {
  std::unique_ptr<Optimizer> opt;
  if (name == "sgd") opt = std::make_unique<SGD>(config, n);
  else if (name == "adam") opt = std::make_unique<Adam>(config, n);
  else if (name == "adamw") opt = std::make_unique<Adam>(config, n);  // Adam's rule; the decay is the base's
  else if (name == "rmsprop") opt = std::make_unique<RMSprop>(config, n);
  else if (name == "adagrad") opt = std::make_unique<Adagrad>(config, n);
  else throw std::invalid_argument("unknown optimizer '" + name + "'");
  opt->configure_base(config);
  return opt;
}

}  // namespace fitcore
