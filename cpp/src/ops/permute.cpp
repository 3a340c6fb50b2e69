#include "fitcore/ops/permute.hpp"

#include <stdexcept>

namespace fitcore {

Permute::Permute(const OpSpec& spec, const GraphSpec& graph) : Op(spec, graph) {
  const auto& in = graph.slot_shapes.at(static_cast<size_t>(spec.inputs.at(0)));
  const auto& out = graph.slot_shapes.at(static_cast<size_t>(spec.output));
  const size_t rank = in.size();
  if (inputs_.size() != 1 || out.size() != rank) throw std::invalid_argument("permute: bad shapes");
  // dims_a (1-based, Keras's) says which input axis output axis a reads.
  std::vector<size_t> dims(rank);
  std::vector<bool> used(rank, false);
  for (size_t a = 0; a < rank; ++a) {
    const auto d = static_cast<int64_t>(spec.config.number("dim_" + std::to_string(a))) - 1;
    if (d < 0 || static_cast<size_t>(d) >= rank || used[static_cast<size_t>(d)] ||
        out[a] != in[static_cast<size_t>(d)])
      throw std::invalid_argument("permute: dims must be a permutation matching the shapes");
    dims[a] = static_cast<size_t>(d);
    used[static_cast<size_t>(d)] = true;
  }
  std::vector<int64_t> in_stride(rank, 1);
  for (size_t a = rank; a-- > 1;) in_stride[a - 1] = in_stride[a] * in[a];
  source_.resize(static_cast<size_t>(output_width()));
  std::vector<int64_t> index(rank, 0);  // the output element's multi-index, row-major
  for (auto& s : source_) {
    s = 0;
    for (size_t a = 0; a < rank; ++a) s += index[a] * in_stride[dims[a]];
    for (size_t a = rank; a-- > 0;) {
      if (++index[a] < out[a]) break;
      index[a] = 0;
    }
  }
}

void Permute::reserve(int64_t rows) { ensure_size(scratch_, rows * input_width()); }

void Permute::forward(Pass& p) {
  const int64_t w = output_width();
  const float* x = input(p);
  float* y = output_value(p);
#pragma omp parallel for schedule(static) if (p.rows * w > kParallelGrain)
  for (int64_t r = 0; r < p.rows; ++r)
    for (int64_t k = 0; k < w; ++k) y[r * w + k] = x[r * w + source_[static_cast<size_t>(k)]];
}

void Permute::backward(Pass& p) {
  if (grad_mode_[0] == GradMode::skip) return;
  const int64_t w = output_width();
  const float* gy = output_grad(p);
  float* g = scratch_.data();
#pragma omp parallel for schedule(static) if (p.rows * w > kParallelGrain)
  for (int64_t r = 0; r < p.rows; ++r)  // a permutation: every input element is written once
    for (int64_t k = 0; k < w; ++k) g[r * w + source_[static_cast<size_t>(k)]] = gy[r * w + k];
  send_grad(p, 0, g);
}

}  // namespace fitcore
