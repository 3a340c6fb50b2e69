#!/usr/bin/env python3
"""The object and module checks of tools/check-isa: instruction-set leaks out of the per-ISA kernel
files (cpp/src/kernels/*_avx2.cpp, *_avx512.cpp), which are compiled with wider flags than the rest.

If one of them instantiates an inline function or template from a shared header (Eigen,
<algorithm>, our own headers), the instantiation is a weak symbol, and the linker keeps one copy of
it for the whole module: the AVX-512 copy may then serve every caller, and a CPU without AVX-512
dies with SIGILL far from the kernels. Three checks catch it:
  1. across all objects of the build: a weak symbol defined at more than one level, or defined at
     a wider level and called from another, passes only if every level has a copy and all copies
     disassemble to the same instructions (then whichever the linker keeps suits every caller);
  2. in the per-ISA objects of fitcore_core: no weak or unique symbol at all, and the global ones
     are the fitcore::kernels entry points only;
  3. in the linked module (not stripped: a RelWithDebInfo build, as tools/check-isa makes): every
     function using AVX-512 registers (zmm, mask registers, xmm/ymm 16-31) is one of the *_avx512
     objects' own, and every function using ymm registers is one of the per-ISA objects' own
     (valid for a portable build, FITCORE_NATIVE=OFF).
Usage: python tools/check_isa.py BUILD_DIR   (exit status 1 and a list on failure). tools/check-isa
builds the portable core and runs this; `tools/check-isa --objects BUILD_DIR` runs it alone.
"""
import collections
import os
import pathlib
import re
import subprocess
import sys

LEVELS = ("baseline", "avx2", "avx512")
AVX512_REG = re.compile(r"%(zmm\d+|k[0-7]\b|[xy]mm(1[6-9]|2\d|3[01])\b)")
YMM_REG = re.compile(r"%ymm\d+")
FUNCTION = re.compile(r"^[0-9a-f]+ <(.+)>:$")


def level_of(path):
    name = pathlib.Path(path).name
    if "_avx512.cpp" in name:
        return "avx512"
    if "_avx2.cpp" in name:
        return "avx2"
    return "baseline"


def nm(obj, *flags):
    """(kind, name) of each symbol nm lists for an object (none for a stripped one)."""
    run = subprocess.run(["nm", "--format=posix", *flags, str(obj)], capture_output=True, text=True)
    if run.returncode != 0 and "no symbols" not in run.stderr:
        raise RuntimeError(f"nm {obj}: {run.stderr.strip()}")
    return [(parts[1], parts[0]) for parts in (line.split() for line in run.stdout.splitlines()) if len(parts) >= 2]


def disassembly(obj, symbol):
    """The instructions of one function in an object file, without addresses or raw bytes."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-r", f"--disassemble={symbol}", str(obj)],
                         capture_output=True, text=True, check=True).stdout
    body = out.split(f"<{symbol}>:", 1)[-1]
    return [re.sub(r"^\s*[0-9a-f]+:\s*", "", line) for line in body.splitlines() if line.strip()]


def shared_weak_symbols(objects):
    """Check 1: (problems, number of weak symbols shared between levels)."""
    defined_by = collections.defaultdict(list)  # symbol -> [(level, object)]
    referenced_by = collections.defaultdict(set)  # symbol -> {levels}
    for obj in objects:
        for kind, name in nm(obj):
            if kind in ("W", "V", "u"):
                defined_by[name].append((level_of(obj), obj))
            elif kind in ("U", "w"):
                referenced_by[name].add(level_of(obj))
    problems, checked = [], 0
    for symbol, definitions in sorted(defined_by.items()):
        if all(lvl == "baseline" for lvl, _ in definitions):
            continue
        levels = {lvl for lvl, _ in definitions} | referenced_by.get(symbol, set())
        if len(levels) == 1:
            continue  # one level only: whichever copy is kept suits every caller
        checked += 1
        copies = {lvl: obj for lvl, obj in definitions}
        missing = sorted(levels - copies.keys(), key=LEVELS.index)
        if missing:
            problems.append(f"{symbol}: compiled only at {sorted(copies, key=LEVELS.index)} but called at {missing}")
            continue
        texts = {lvl: disassembly(obj, symbol) for lvl, obj in copies.items()}
        if len({tuple(t) for t in texts.values()}) > 1:
            problems.append(f"{symbol}: its copies differ between {sorted(texts, key=LEVELS.index)}")
    return problems, checked


def per_isa_objects(objects):
    """Check 2: (problems, {level: names of the functions the level's objects define})."""
    problems, own = [], {"avx2": set(), "avx512": set()}
    for obj in objects:
        level = level_of(obj)
        if level == "baseline":
            continue
        for kind, symbol in nm(obj, "--defined-only"):
            if kind in "WVu":
                problems.append(f"{os.path.basename(obj)}: weak symbol {symbol} (an inline function or "
                                "template from a shared header: the linker may give it to every caller)")
            elif kind == "T" and not symbol.startswith("_ZN7fitcore7kernels"):
                problems.append(f"{os.path.basename(obj)}: global symbol {symbol} outside fitcore::kernels")
            if kind in "tT":
                own[level].add(symbol)
    return problems, own


def functions_using(module):
    """{function name: (uses AVX-512 registers, uses ymm registers)} from a disassembly of module."""
    dump = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(module)], capture_output=True, text=True,
                          check=True).stdout
    found, name = {}, None
    for line in dump.splitlines():
        head = FUNCTION.match(line)
        if head:
            name = head.group(1)
            continue
        if name and "%" in line:
            wide, ymm = bool(AVX512_REG.search(line)), bool(YMM_REG.search(line))
            if wide or ymm:
                was = found.get(name, (False, False))
                found[name] = (was[0] or wide, was[1] or ymm)
    return found


def module_code(module, own):
    """Check 3: problems in one linked module."""
    problems = []
    for name, (wide, ymm) in sorted(functions_using(module).items()):
        base = name.split("@")[0]
        if wide and base not in own["avx512"]:
            problems.append(f"{os.path.basename(module)}: {name} uses AVX-512 registers outside *_avx512.cpp")
        elif ymm and base not in own["avx2"] | own["avx512"]:
            problems.append(f"{os.path.basename(module)}: {name} uses ymm registers outside the per-ISA files")
    return problems


def main(build):
    build = pathlib.Path(build)
    objects = sorted(build.glob("CMakeFiles/**/*.o"))
    core = [o for o in objects if "fitcore_core.dir" in o.parts]
    modules = sorted(build.glob("_core*.so"))
    if not any(level_of(o) == "avx512" for o in core) or not modules:
        sys.exit(f"check-isa: no fitcore_core *_avx512.cpp.o or _core*.so under {build} (build first)")
    problems, shared = shared_weak_symbols(objects)
    found, own = per_isa_objects(core)
    problems += found
    disassembled = 0
    for module in modules:
        if not any(kind in "tT" for kind, _ in nm(module, "--defined-only")):
            print(f"check-isa: {module.name} is stripped (a Release build): its code is not checked; "
                  "tools/check-isa builds RelWithDebInfo")
            continue
        problems += module_code(module, own)
        disassembled += 1
    for p in problems:
        print(p)
    print(f"check-isa: {len(problems)} problem(s); {len(objects)} objects, {shared} weak symbols shared between "
          f"levels, {sum(map(len, own.values()))} per-ISA functions, {disassembled} module(s) disassembled")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/portable"))
