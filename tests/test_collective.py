"""The core's cross-process sum (the building block of data-parallel fit): run under `mpiexec -n 2`,
each rank's buffer becomes the element-wise sum over ranks, computed in the core through the MPI
library mpi4py loaded; bad handles are refused."""
import os
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fitcore import _core

MPI = pytest.importorskip("mpi4py.MPI", reason="mpi4py and mpich are in the test extra")
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))

RANK_SCRIPT = textwrap.dedent("""
    import numpy as np
    from fitcore.distribution.mpi import world_collective

    world = world_collective()
    rank, size = world.rank, world.size
    for n, dtype in ((0, np.float32), (1, np.float32), (1000, np.float32), (300001, np.float64)):
        mine = np.random.default_rng(rank * 7919 + n).normal(size=n).astype(dtype)
        everyone = [np.random.default_rng(r * 7919 + n).normal(size=n).astype(dtype) for r in range(size)]
        world.sum(mine)
        expected = np.sum(np.array(everyone, dtype=np.float64), axis=0)
        tolerance = 1e-6 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(mine, expected, rtol=tolerance, atol=tolerance)
    print(f"rank {rank} of {size} ok")
""")


@pytest.mark.skipif(MPIEXEC is None, reason="mpiexec comes with the mpich wheel of the test extra")
def test_sum_over_two_ranks_matches_numpy():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-c", RANK_SCRIPT], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    # mpiexec forwards the ranks' output in chunks that may interleave: find the lines, not their order
    assert sorted(re.findall(r"rank \d of \d ok", out.stdout)) == ["rank 0 of 2 ok", "rank 1 of 2 ok"], out.stdout


def test_one_process_world_is_the_identity():
    from fitcore.distribution.mpi import world_collective

    world = world_collective()
    assert (world.rank, world.size) == (0, 1)
    data = np.arange(5, dtype=np.float32)
    world.sum(data)
    np.testing.assert_array_equal(data, np.arange(5, dtype=np.float32))


def test_bad_handles_and_libraries_are_refused():
    from fitcore.distribution.mpi import _loaded_mpi_library

    good = dict(comm=MPI._handleof(MPI.COMM_WORLD), float_type=MPI._handleof(MPI.FLOAT),
                double_type=MPI._handleof(MPI.DOUBLE), sum_op=MPI._handleof(MPI.SUM))
    with pytest.raises(ValueError, match="collective: MPI handles must be 4 or 8 bytes, got 3"):
        _core.Collective(_loaded_mpi_library(), _core.MpiHandles(**good, handle_bytes=3), 0, 1)
    with pytest.raises(ValueError, match="collective: the MPI library '/nonexistent/libmpi.so' is not loaded"):
        _core.Collective("/nonexistent/libmpi.so", _core.MpiHandles(**good, handle_bytes=4), 0, 1)
    with pytest.raises(ValueError, match="collective: rank 2 of 2"):
        _core.Collective(_loaded_mpi_library(), _core.MpiHandles(**good, handle_bytes=4), 2, 2)
