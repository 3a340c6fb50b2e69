"""tools/check-isa --objects: on a small build laid out as CMake lays out the core's (objects under
CMakeFiles/fitcore_core.dir, the module beside them), it must catch a weak function compiled with
AVX-512 flags that a baseline file also uses (the linker may keep the AVX-512 copy for both: SIGILL
on older CPUs), a global per-ISA symbol outside fitcore::kernels, and AVX-512 code in the module
outside the *_avx512 files; and pass the pattern the vecmath kernels use (internal linkage,
flattened entry points in fitcore::kernels)."""
import os
import shutil
import subprocess

import pytest

TOOL = os.path.join(os.path.dirname(__file__), "..", "tools", "check-isa")

SHARED = """
#include <cstdint>
%s float scaled_sum(const float* x, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += 3.0f * x[i] * x[i];
  return s;
}
%s
"""
ENTRY = """
#include "shared.hpp"
namespace %s { %s float entry_%s(const float* x, int64_t n) { return scaled_sum(x, n); } }
"""
WIDE = """
#include <immintrin.h>
float wide_sum(const float* x) { return _mm512_reduce_add_ps(_mm512_loadu_ps(x)); }
"""
INLINE = ("inline", "")  # a weak symbol in every object that uses it
INTERNAL = ("namespace { inline", "}")  # each object its own copy


def _check(tmp_path, shared, namespace="fitcore::kernels", entry_attribute="__attribute__((flatten))",
           baseline_wide=False):
    if any(shutil.which(t) is None for t in ("g++", "nm", "objdump")):
        pytest.fail("g++, nm and objdump are needed (binutils), as for building fitcore itself")
    objdir = tmp_path / "CMakeFiles" / "fitcore_core.dir"
    objdir.mkdir(parents=True)
    (tmp_path / "shared.hpp").write_text(SHARED % shared)
    sources = [("plain", ENTRY % (namespace, entry_attribute, "plain"), []),
               ("kern_avx512", ENTRY % (namespace, entry_attribute, "kern_avx512"),
                ["-mavx512f", "-mavx512vl", "-mfma"])]
    if baseline_wide:  # a file outside the per-ISA ones compiled with AVX-512 flags
        sources.append(("leaky", WIDE, ["-mavx512f"]))
    objects = []
    for name, text, flags in sources:
        src = tmp_path / f"{name}.cpp"
        src.write_text(text)
        objects.append(str(objdir / f"{name}.cpp.o"))
        subprocess.run(["g++", "-O2", "-fPIC", "-fno-inline", "-c", str(src), "-o", objects[-1], *flags], check=True)
    subprocess.run(["g++", "-shared", "-o", str(tmp_path / "_core.so"), *objects], check=True)
    return subprocess.run([TOOL, "--objects", str(tmp_path)], capture_output=True, text=True)


def test_weak_function_shared_by_levels_is_reported(tmp_path):
    run = _check(tmp_path, INLINE)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "_Z10scaled_sumPKfl: its copies differ between ['baseline', 'avx512']" in run.stdout
    assert "kern_avx512.cpp.o: weak symbol _Z10scaled_sumPKfl" in run.stdout


def test_internal_linkage_and_flattened_entry_points_pass(tmp_path):
    run = _check(tmp_path, INTERNAL)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().startswith("check-isa: 0 problem(s); 2 objects")
    assert "1 module(s) disassembled" in run.stdout


def test_per_isa_entry_point_outside_fitcore_kernels_is_reported(tmp_path):
    run = _check(tmp_path, INTERNAL, namespace="other")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "kern_avx512.cpp.o: global symbol _ZN5other17entry_kern_avx512EPKfl outside fitcore::kernels" in run.stdout


def test_avx512_code_outside_the_avx512_files_is_reported(tmp_path):
    run = _check(tmp_path, INTERNAL, baseline_wide=True)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "_core.so: _Z8wide_sumPKf uses AVX-512 registers outside *_avx512.cpp" in run.stdout


def test_a_stripped_module_is_named_and_its_objects_still_checked(tmp_path):
    run = _check(tmp_path, INLINE)
    subprocess.run(["strip", str(tmp_path / "_core.so")], check=True)
    run = subprocess.run([TOOL, "--objects", str(tmp_path)], capture_output=True, text=True)
    assert "_core.so is stripped (a Release build): its code is not checked" in run.stdout
    assert run.returncode == 1 and "its copies differ" in run.stdout
