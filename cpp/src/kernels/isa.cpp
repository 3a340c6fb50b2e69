#include "fitcore/kernels/isa.hpp"

#include <atomic>
#include <stdexcept>
#include <string>

namespace fitcore::kernels {
namespace {

Isa detect() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  const bool fma = __builtin_cpu_supports("fma");
  if (fma && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    return Isa::avx512;
  }
  if (fma && __builtin_cpu_supports("avx2")) return Isa::avx2;
#endif
  return Isa::baseline;
}

// The cap is a process-wide setting like OpenMP's thread count (not model state): one atomic,
// read at every dispatch, so a change applies from the next kernel call on.
std::atomic<int>& limit() {
  static std::atomic<int> value{static_cast<int>(Isa::avx512)};
  return value;
}

}  // namespace

Isa supported_isa() {
  static const Isa supported = detect();
  return supported;
}

Isa active_isa() {
  const int cap = limit().load(std::memory_order_relaxed);
  const int have = static_cast<int>(supported_isa());
  return static_cast<Isa>(cap < have ? cap : have);
}

void set_isa_limit(Isa cap) {
  if (static_cast<int>(cap) > static_cast<int>(supported_isa())) {
    throw std::invalid_argument(std::string("instruction set '") + isa_name(cap) + "' is not supported by this CPU (it has '" +
                                isa_name(supported_isa()) + "')");
  }
  limit().store(static_cast<int>(cap), std::memory_order_relaxed);
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    default: return "baseline";
  }
}

}  // namespace fitcore::kernels
