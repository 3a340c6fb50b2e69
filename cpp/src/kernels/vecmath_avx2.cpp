// The vector-math kernels at the AVX2 + FMA level: Eigen's 8-float packets. CMake compiles this
// file with -mavx2 -mfma whatever FITCORE_NATIVE says; it runs only where kernels::active_isa()
// says the CPU has them.
#include "vecmath_impl.hpp"

#if !defined(__AVX2__) || !defined(__FMA__)
#error "vecmath_avx2.cpp needs -mavx2 -mfma (CMake sets them for files named *_avx2.cpp)"
#endif

namespace fitcore::kernels {

const VecMath& vecmath_avx2() {
  static const VecMath table = Kernels<Eigen::internal::Packet8f>::table();
  return table;
}

}  // namespace fitcore::kernels
