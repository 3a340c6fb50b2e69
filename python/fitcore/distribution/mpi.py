"""The process group of a data-parallel run, from mpi4py: which MPI library it loaded and the handles
the core needs to call that library's MPI_Allreduce itself, so no step of a run comes back to Python."""
import os

from fitcore import _core


def _loaded_mpi_library():
    """The path of the MPI library mpi4py loaded into this process (Linux: /proc/self/maps)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if len(line.split()) >= 6}
    except OSError:
        paths = set()
    candidates = sorted(p for p in paths if os.path.basename(p).startswith(("libmpi.", "libmpi_", "libmpich.")))
    if not candidates:
        raise RuntimeError("fitcore could not find the MPI library mpi4py loaded (looked for libmpi in "
                           "/proc/self/maps); data-parallel runs need Linux and mpi4py")
    return candidates[0]


def world_collective():
    """A core `Collective` over MPI_COMM_WORLD: sums buffers over every rank of `mpiexec -n K`.

    Returns:
        A `fitcore._core.Collective` whose `rank` and `size` are this process's place in the world.

    Raises:
        ImportError: mpi4py is not installed (`pip install "fitcore[mpi]"`).
    """
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError('data-parallel fitcore needs mpi4py and an MPI: pip install "fitcore[mpi]"') from e
    comm = MPI.COMM_WORLD
    handles = _core.MpiHandles(comm=MPI._handleof(comm), float_type=MPI._handleof(MPI.FLOAT),
                               double_type=MPI._handleof(MPI.DOUBLE), sum_op=MPI._handleof(MPI.SUM),
                               handle_bytes=MPI._sizeof(MPI.Comm), in_place=int(MPI.IN_PLACE))
    return _core.Collective(_loaded_mpi_library(), handles, comm.Get_rank(), comm.Get_size())
