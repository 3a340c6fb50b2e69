"""Process-wide settings: thread count."""
from fitcore import _core


def set_num_threads(n):
    """Sets the number of threads the core uses (OpenMP and Eigen); OMP_NUM_THREADS sets the default."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: `n` must be a positive int, got {n!r}")
    _core.set_num_threads(n)


def get_num_threads():
    return _core.get_num_threads()
