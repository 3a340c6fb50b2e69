"""The instruction-set levels this machine can run, as pytest parameters: a level the CPU lacks is a
skip that names the missing instruction set."""
import contextlib

import pytest

import fitcore as fc

MISSING = {"avx2": "this CPU lacks AVX2 + FMA", "avx512": "this CPU lacks AVX-512 (F, BW, DQ, VL)"}


def supported_levels():
    """The levels this CPU runs, narrowest first."""
    return fc.config.ISA_LEVELS[:fc.config.ISA_LEVELS.index(fc.config.supported_isa()) + 1]


def level_params(levels=fc.config.ISA_LEVELS):
    supported = fc.config.ISA_LEVELS.index(fc.config.supported_isa())
    return [pytest.param(level, marks=pytest.mark.skipif(fc.config.ISA_LEVELS.index(level) > supported,
                                                         reason=f"{level} kernels not run: {MISSING.get(level)}"))
            for level in levels]


@contextlib.contextmanager
def isa(level):
    """Runs the block at `level`, then puts the previous level back."""
    before = fc.config.get_isa()
    fc.config.set_isa(level)
    try:
        yield
    finally:
        fc.config.set_isa(before)
