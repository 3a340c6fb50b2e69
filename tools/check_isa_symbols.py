"""Checks a build of the core for instruction-set leaks (run by tools/check-isa on a portable build).

Per-ISA kernel files (cpp/src/kernels/*_avx2.cpp, *_avx512.cpp) are compiled with wider flags than
the rest. If one of them instantiates an inline function or template from a shared header (Eigen,
<algorithm>, our own headers), the instantiation is a weak symbol, and the linker may keep the
AVX-512 copy for every caller: a CPU without AVX-512 then dies with SIGILL far from the kernels.
Two checks catch it:
  1. no weak or unique symbol is defined in a per-ISA object, and the global ones are the
     fitcore::kernels entry points only;
  2. in the linked module, every function using AVX-512 registers (zmm, mask registers, xmm/ymm
     16-31) is one of the *_avx512 objects' own, and every function using ymm registers is one of
     the per-ISA objects' own (valid for a portable build: FITCORE_NATIVE=OFF).
Usage: python tools/check_isa_symbols.py BUILD_DIR   (exit status 1 and a list on failure)
"""
import glob
import os
import re
import subprocess
import sys

AVX512_REG = re.compile(r"%(zmm\d+|k[0-7]\b|[xy]mm(1[6-9]|2\d|3[01])\b)")
YMM_REG = re.compile(r"%ymm\d+")
FUNCTION = re.compile(r"^[0-9a-f]+ <(.+)>:$")


def defined_symbols(obj):
    """(type, mangled name) of each symbol defined in an object file."""
    out = subprocess.run(["nm", "--defined-only", obj], capture_output=True, text=True, check=True).stdout
    return [(parts[1], parts[2]) for parts in (line.split() for line in out.splitlines()) if len(parts) == 3]


def functions_using(module):
    """{function name: (uses AVX-512 registers, uses ymm registers)} from a disassembly of module."""
    dump = subprocess.run(["objdump", "-d", "--no-show-raw-insn", module], capture_output=True, text=True,
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


def main(build):
    objects = glob.glob(os.path.join(build, "CMakeFiles", "fitcore_core.dir", "**", "*.o"), recursive=True)
    per_isa = {level: [o for o in objects if o.endswith(f"_{level}.cpp.o")] for level in ("avx2", "avx512")}
    modules = glob.glob(os.path.join(build, "_core*.so"))
    if not per_isa["avx512"] or not modules:
        sys.exit(f"check_isa_symbols: no *_avx512.cpp.o or _core*.so under {build}")
    problems, own = [], {"avx2": set(), "avx512": set()}
    for level, objs in per_isa.items():
        for obj in objs:
            for kind, symbol in defined_symbols(obj):
                if kind in "WVu":
                    problems.append(f"{os.path.basename(obj)}: weak symbol {symbol} (an inline function or "
                                    "template from a shared header: the linker may give it to every caller)")
                elif kind == "T" and not symbol.startswith("_ZN7fitcore7kernels"):
                    problems.append(f"{os.path.basename(obj)}: global symbol {symbol} outside fitcore::kernels")
                if kind in "tT":
                    own[level].add(symbol)
    for module in modules:
        for name, (wide, ymm) in sorted(functions_using(module).items()):
            base = name.split("@")[0]
            if wide and base not in own["avx512"]:
                problems.append(f"{os.path.basename(module)}: {name} uses AVX-512 registers outside *_avx512.cpp")
            elif ymm and base not in own["avx2"] | own["avx512"]:
                problems.append(f"{os.path.basename(module)}: {name} uses ymm registers outside the per-ISA files")
    for p in problems:
        print(p)
    counted = sum(len(v) for v in own.values())
    print(f"check_isa_symbols: {len(problems)} problem(s); {counted} per-ISA functions in "
          f"{sum(map(len, per_isa.values()))} objects, {len(modules)} module(s) disassembled")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/portable"))
