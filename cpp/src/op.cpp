#include "fitcore/op.hpp"

#include <algorithm>

namespace fitcore {

Op::Op(const OpSpec& spec, const GraphSpec& graph)
    : inputs_(spec.inputs),
      output_(spec.output),
      params_(spec.params),
      output_width_(graph.width(spec.output)),
      grad_mode_(spec.inputs.size(), GradMode::skip) {
  for (int slot : inputs_) input_widths_.push_back(graph.width(slot));
}

void Op::send_grad(const Pass& p, size_t i, const float* g) const {
  const int64_t n = p.rows * input_widths_.at(i);
  float* gx = input_grad(p, i);
  if (grad_mode_.at(i) == GradMode::write) {
    std::copy(g, g + n, gx);
  } else if (grad_mode_[i] == GradMode::accumulate) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
    for (int64_t k = 0; k < n; ++k) gx[k] += g[k];
  }
}

}  // namespace fitcore
