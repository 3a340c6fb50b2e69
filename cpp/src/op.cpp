#include "fitcore/op.hpp"

namespace fitcore {

Op::Op(const OpSpec& spec, const GraphSpec& graph)
    : inputs_(spec.inputs),
      output_(spec.output),
      params_(spec.params),
      output_width_(graph.width(spec.output)),
      grad_mode_(spec.inputs.size(), GradMode::skip) {
  for (int slot : inputs_) input_widths_.push_back(graph.width(slot));
}

}  // namespace fitcore
