"""The core's cross-process sum (the building block of data-parallel fit): run under `mpiexec -n 2`,
each rank's buffer becomes the element-wise sum over ranks, computed in the core through the MPI
library mpi4py loaded; bad handles are refused. Every MPI use runs in a child process, so the test
session itself never initialises MPI (forks and sanitizer runs of other tests stay clear of it)."""
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("mpi4py", reason="mpi4py and mpich are in the test extra")
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))

SUM_SCRIPT = textwrap.dedent("""
    import numpy as np
    from fitcore.distribution.mpi import world_collective

    from mpi4py import MPI
    from fitcore import _core
    from fitcore.distribution.mpi import _loaded_mpi_library

    world = world_collective()  # MPI_IN_PLACE
    rank, size = world.rank, world.size
    copying = _core.Collective(_loaded_mpi_library(), _core.MpiHandles(
        comm=MPI._handleof(MPI.COMM_WORLD), float_type=MPI._handleof(MPI.FLOAT), double_type=MPI._handleof(MPI.DOUBLE),
        sum_op=MPI._handleof(MPI.SUM), handle_bytes=MPI._sizeof(MPI.Comm)), rank, size)  # in_place unknown: a copy
    for collective in (world, copying):
        for n, dtype in ((0, np.float32), (1, np.float32), (1000, np.float32), (300001, np.float64)):
            mine = np.random.default_rng(rank * 7919 + n).normal(size=n).astype(dtype)
            everyone = [np.random.default_rng(r * 7919 + n).normal(size=n).astype(dtype) for r in range(size)]
            collective.sum(mine)
            expected = np.sum(np.array(everyone, dtype=np.float64), axis=0)
            tolerance = 1e-6 if dtype == np.float32 else 1e-12
            np.testing.assert_allclose(mine, expected, rtol=tolerance, atol=tolerance)
    print(f"rank {rank} of {size} ok")
""")

BAD_HANDLES_SCRIPT = textwrap.dedent("""
    from mpi4py import MPI
    from fitcore import _core
    from fitcore.distribution.mpi import _loaded_mpi_library

    good = dict(comm=MPI._handleof(MPI.COMM_WORLD), float_type=MPI._handleof(MPI.FLOAT),
                double_type=MPI._handleof(MPI.DOUBLE), sum_op=MPI._handleof(MPI.SUM))
    for library, handle_bytes, rank, size in ((_loaded_mpi_library(), 3, 0, 1), ("/nonexistent/libmpi.so", 4, 0, 1),
                                              (_loaded_mpi_library(), 4, 2, 2)):
        try:
            _core.Collective(library, _core.MpiHandles(**good, handle_bytes=handle_bytes), rank, size)
        except ValueError as e:
            print("ValueError:", e)
""")


def _run(args, script):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run(args + [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.skipif(MPIEXEC is None, reason="mpiexec comes with the mpich wheel of the test extra")
def test_sum_over_two_ranks_matches_numpy():
    stdout = _run([MPIEXEC, "-n", "2"], SUM_SCRIPT)
    # mpiexec forwards the ranks' output in chunks that may interleave: find the lines, not their order
    assert sorted(re.findall(r"rank \d of \d ok", stdout)) == ["rank 0 of 2 ok", "rank 1 of 2 ok"], stdout


def test_one_process_world_is_the_identity():
    assert _run([], SUM_SCRIPT).strip() == "rank 0 of 1 ok"


def test_bad_handles_and_libraries_are_refused():
    assert _run([], BAD_HANDLES_SCRIPT).splitlines() == [
        "ValueError: collective: MPI handles must be 4 or 8 bytes, got 3",
        "ValueError: collective: the MPI library '/nonexistent/libmpi.so' is not loaded",
        "ValueError: collective: rank 2 of 2",
    ]
