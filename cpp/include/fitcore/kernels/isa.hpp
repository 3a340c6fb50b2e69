#pragma once
// Instruction-set levels of the hot kernels. Each kernel is compiled once per level (files named
// *_avx2.cpp / *_avx512.cpp get that level's compiler flags whatever FITCORE_NATIVE says) and the
// level that runs is chosen at run time, so one portable binary is fast on every x86-64 CPU.

namespace fitcore::kernels {

enum class Isa : int { baseline = 0, avx2 = 1, avx512 = 2 };

// The widest level this CPU supports (AVX2 means AVX2 + FMA; AVX-512 means F, BW, DQ and VL).
Isa supported_isa();

// The level kernels run at now: the supported one, capped by set_isa_limit.
Isa active_isa();

// Caps the level for the whole process, like the thread count (fc.config.set_isa, FITCORE_ISA).
// A cap above the supported level throws std::invalid_argument.
void set_isa_limit(Isa limit);

const char* isa_name(Isa isa);

}  // namespace fitcore::kernels
