#include "fitcore/ops/flatten.hpp"

#include <algorithm>

namespace fitcore {

void Flatten::forward(Pass& p) {
  const float* x = input(p);
  std::copy(x, x + p.rows * output_width(), output_value(p));
}

void Flatten::backward(Pass& p) { send_grad(p, 0, output_grad(p)); }

}  // namespace fitcore
