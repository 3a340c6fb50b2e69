"""tools/check-isa-symbols: it must catch a weak function compiled with AVX-512 flags that a
baseline file also uses (the linker may keep the AVX-512 copy for both: SIGILL on older CPUs), and
pass the pattern the vecmath kernels use (internal linkage, flattened entry points)."""
import os
import shutil
import subprocess
import sys

import pytest

TOOL = os.path.join(os.path.dirname(__file__), "..", "tools", "check-isa-symbols")

HEADER = """
#include <cstdint>
%s float scaled_sum(const float* x, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += 3.0f * x[i] * x[i];
  return s;
}
"""
CALLER = """
#include "shared.hpp"
%s float entry_%s(const float* x, int64_t n) { return scaled_sum(x, n); }
"""


def _build(tmp_path, linkage, entry_attribute):
    if shutil.which("g++") is None or shutil.which("objdump") is None:
        pytest.fail("g++ and objdump are needed (binutils), as for building fitcore itself")
    objdir = tmp_path / "CMakeFiles" / "core.dir"
    objdir.mkdir(parents=True)
    (tmp_path / "shared.hpp").write_text(HEADER % linkage)
    for name, flags in [("plain", []), ("kern_avx512", ["-mavx512f", "-mavx512vl", "-mfma"])]:
        src = tmp_path / f"{name}.cpp"
        src.write_text(CALLER % (entry_attribute, name))
        subprocess.run(["g++", "-O2", "-fno-inline", "-c", str(src), "-o", str(objdir / f"{name}.cpp.o"), *flags],
                       check=True)
    return subprocess.run([sys.executable, TOOL, str(tmp_path)], capture_output=True, text=True)


def test_weak_function_shared_by_levels_is_reported(tmp_path):
    run = _build(tmp_path, "inline", "")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "_Z10scaled_sumPKfl: its copies differ between ['baseline', 'avx512']" in run.stdout


def test_internal_linkage_and_flattened_entry_points_pass(tmp_path):
    run = _build(tmp_path, "namespace { inline", "} __attribute__((flatten))")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().endswith("check-isa-symbols: ok")
