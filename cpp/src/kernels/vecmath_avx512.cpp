// The vector-math kernels at the AVX-512 level: Eigen's 16-float packets. CMake compiles this file
// with -mavx512f/bw/dq/vl whatever FITCORE_NATIVE says; it runs only where kernels::active_isa()
// says the CPU has them.
#include "vecmath_impl.hpp"

#if !defined(__AVX512F__) || !defined(__AVX512DQ__)
#error "vecmath_avx512.cpp needs -mavx512f -mavx512dq (CMake sets them for files named *_avx512.cpp)"
#endif

namespace fitcore::kernels {

const VecMath& vecmath_avx512() {
  static const VecMath table = Kernels<Eigen::internal::Packet16f>::table();
  return table;
}

}  // namespace fitcore::kernels
