// The vector-math kernels at the baseline level: Eigen's 4-float packets (SSE2 on x86-64, NEON on
// ARM), compiled with the build's default flags.
#include "vecmath_impl.hpp"

namespace fitcore::kernels {

const VecMath& vecmath_baseline() {
  static const VecMath table = Kernels<Eigen::internal::Packet4f>::table();
  return table;
}

}  // namespace fitcore::kernels
