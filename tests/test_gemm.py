"""The core's GEMM (fitcore._core.gemm: C = A B or C += A B on strided float32 views) at every
instruction-set level this CPU supports: against numpy in float64 at tile, slice and cache-block
edges, with transposed and strided operands, in accumulate mode and at large shapes; and the
FMA-chain property the AVX2 and AVX-512 kernels promise (same bits however C or k is split, and
the same bits at both levels)."""
import numpy as np
import pytest

import fitcore as fc
from isa_levels import isa, level_params, supported_levels

FMA_LEVELS = level_params(("avx2", "avx512"))
ALL_LEVELS = level_params()


def operands(m, k, n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)


def gemm(a, b, c=None, accumulate=False):
    if c is None:
        c = np.full((a.shape[0], b.shape[1]), np.nan, dtype=np.float32)  # NaN: any unwritten element shows
    fc._core.gemm(a, b, c, accumulate)
    return c


def assert_close_to_float64(got, a, b, c0=None):
    """|got - A B| within k float32 roundings of sum |a||b| (the error bound of any summation order)."""
    want = a.astype(np.float64) @ b.astype(np.float64)
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
    if c0 is not None:
        want += c0
        scale += np.abs(c0)
    bound = (a.shape[1] + 2) * np.finfo(np.float32).eps * scale + 1e-30
    assert np.isfinite(got).all()
    assert (np.abs(got - want) <= bound).all(), np.abs(got - want).max()


# Rows across the 6-row tiles (and the last two that share 7, 8, 9 or 32's last 8 rows) and the
# 96/192-row cache blocks, columns across the 16/64-lane tiles and the 128-column chunks, k across
# the 256-long slices.
EDGE_SHAPES = [(1, 1, 1), (1, 7, 1), (5, 3, 15), (6, 16, 16), (7, 17, 17), (8, 9, 40), (9, 31, 33), (13, 255, 63),
               (12, 256, 64), (32, 300, 70), (19, 257, 65), (191, 300, 129), (193, 513, 127), (200, 40, 300)]


@pytest.mark.parametrize("level", ALL_LEVELS)
@pytest.mark.parametrize("m, k, n", EDGE_SHAPES)
def test_gemm_matches_float64_numpy_at_tile_edges(level, m, k, n):
    a, b = operands(m, k, n)
    with isa(level):
        assert_close_to_float64(gemm(a, b), a, b)


@pytest.mark.parametrize("level", ALL_LEVELS)
@pytest.mark.parametrize("m, k, n", [(7, 17, 17), (193, 513, 127)])
def test_accumulate_adds_to_c(level, m, k, n):
    a, b = operands(m, k, n)
    c0 = np.random.default_rng(5).standard_normal((m, n), dtype=np.float32)
    with isa(level):
        got = gemm(a, b, c0.copy(), accumulate=True)
    assert_close_to_float64(got, a, b, c0.astype(np.float64))


@pytest.mark.parametrize("level", ALL_LEVELS)
@pytest.mark.parametrize("m, k, n", [(6, 16, 64), (31, 264, 70), (200, 777, 129)])
def test_transposed_and_strided_operands(level, m, k, n):
    # A and B as transposes of stored matrices (B's strips then packed through 8 x 8 transposes),
    # as every-other-column views, and with a negative row stride; C a block of a wider array.
    a, b = operands(m, k, n, seed=2)
    views = {
        "transposes": (np.ascontiguousarray(a.T).T, np.ascontiguousarray(b.T).T),
        "strided": (np.repeat(a, 2, axis=1)[:, ::2], np.repeat(b, 3, axis=1)[:, ::3]),
        "reversed rows": (a[::-1].copy()[::-1], b[::-1].copy()[::-1]),
    }
    with isa(level):
        contiguous = gemm(a, b)
        for name, (av, bv) in views.items():
            assert not (av.flags.c_contiguous and bv.flags.c_contiguous), name
            wide = np.full((m, n + 9), 7.0, dtype=np.float32)
            gemm(av, bv, wide[:, 4:4 + n])
            assert_close_to_float64(wide[:, 4:4 + n], a, b)
            assert (wide[:, :4] == 7).all() and (wide[:, 4 + n:] == 7).all(), f"{name}: wrote outside C"
            if level != "baseline":  # the same chains in the same order, whatever the layout
                np.testing.assert_array_equal(wide[:, 4:4 + n], contiguous, err_msg=name)


@pytest.mark.parametrize("level", FMA_LEVELS)
@pytest.mark.parametrize("k, a_transposed", [(600, False), (1300, False), (1300, True)])
def test_bits_do_not_depend_on_how_c_or_k_is_split(level, k, a_transposed):
    # Dense splits C into column blocks on threads and the kernels split k into slices resumed from
    # C, in runs of slices (1,024 steps with AVX2, 512 with AVX-512; a transposed A, as in x^T dz,
    # one slice a run): with one FMA chain per element in k order, every split gives the bits of
    # the whole, wherever a run starts.
    m, n = 203, 150
    a, b = operands(m, k, n, seed=3)
    if a_transposed:
        a = a.T.copy().T
    with isa(level):
        whole = gemm(a, b)
        by_blocks = np.empty_like(whole)
        for c0, c1 in [(0, 1), (1, 17), (17, 64), (64, 150)]:
            for r0, r1 in [(0, 5), (5, 100), (100, 203)]:
                part = np.empty((r1 - r0, c1 - c0), dtype=np.float32)
                gemm(a[r0:r1], b[:, c0:c1], part)
                by_blocks[r0:r1, c0:c1] = part
        resumed = gemm(a[:, :100], b[:100])
        gemm(a[:, 100:], b[100:], resumed, accumulate=True)
    assert_close_to_float64(whole, a, b)
    np.testing.assert_array_equal(by_blocks, whole)
    np.testing.assert_array_equal(resumed, whole)


@pytest.mark.parametrize("level", FMA_LEVELS)
@pytest.mark.parametrize("layout", ["rows", "transpose", "strided"])
@pytest.mark.parametrize("m, k", [(1, 5), (7, 9), (8, 8), (70, 13), (203, 300), (64, 1)])
def test_one_column_gives_the_bits_of_a_wide_product(level, layout, m, k):
    # A single column (a one-unit Dense layer, its weight gradient) takes its own vector path: 64
    # and 8 rows at a time down A's columns, 8 x 8 blocks of A's rows turned into columns, one
    # scalar chain for the last rows. Each is the same chain as a column of the register tiles.
    a, b = operands(m, k, 20, seed=9)
    av = {"rows": a, "transpose": np.ascontiguousarray(a.T).T, "strided": np.repeat(a, 2, axis=1)[:, ::2]}[layout]
    c0 = np.random.default_rng(10).standard_normal((m, 20), dtype=np.float32)
    with isa(level):
        wide, wide_acc = gemm(av, b), gemm(av, b, c0.copy(), accumulate=True)
        for column in (b[:, 3:4], b[:, 3:4].copy()):  # B strided and contiguous
            one = gemm(av, column)
            np.testing.assert_array_equal(one[:, 0], wide[:, 3])
            np.testing.assert_array_equal(gemm(av, column, c0[:, 3:4].copy(), accumulate=True)[:, 0], wide_acc[:, 3])
    assert_close_to_float64(one, a, b[:, 3:4])


def test_avx2_and_avx512_give_the_same_bits():
    levels = [level for level in supported_levels() if level != "baseline"]
    if len(levels) < 2:
        pytest.skip("needs AVX-512 (F, BW, DQ, VL) beside AVX2 to compare them; this CPU has up to "
                    f"{fc.config.supported_isa()}")
    a, b = operands(301, 700, 333, seed=4)
    c0 = np.random.default_rng(6).standard_normal((301, 333), dtype=np.float32)
    results = []
    for level in levels:
        with isa(level):
            results.append((gemm(a, b), gemm(a.T.copy().T, b, c0.copy(), accumulate=True)))
    for got, want in zip(results[1], results[0]):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_large_shapes(level):
    # Batch 2048 against widths 4096 (k: sixteen slices; m: eleven cache blocks) and 1024 with a
    # wide C (several packed chunks of B), kept to a few GFLOP for CI.
    with isa(level):
        a, b = operands(2048, 4096, 80, seed=7)
        assert_close_to_float64(gemm(a, b), a, b)
        a, b = operands(2048, 1024, 300, seed=8)
        assert_close_to_float64(gemm(a, b), a, b)


def test_gemm_rejects_mismatched_shapes():
    a, b = operands(4, 5, 6)
    with pytest.raises(ValueError, match=r"shapes 4x5 @ 4x6 -> 4x6 do not agree"):
        fc._core.gemm(a, b[:4], np.zeros((4, 6), np.float32), False)
    with pytest.raises(ValueError, match="C must be row-major"):
        fc._core.gemm(a, b, np.zeros((6, 4), np.float32).T, False)
