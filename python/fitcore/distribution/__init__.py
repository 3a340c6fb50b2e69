"""Data-parallel training over MPI, mirroring `keras.distribution` (`pip install "fitcore[mpi]"`).

    import fitcore as fc
    fc.distribution.set_distribution(fc.distribution.DataParallel())
    model.fit(x, y, batch_size=256)       # launched with: mpiexec -n 2 python train.py

`batch_size` is the global batch; see `DataParallel` for what is split, summed and written where.
"""
import sys

from fitcore.distribution.data_parallel import ONE_PROCESS, DataParallel, abort, list_devices

__all__ = ["DataParallel", "distribution", "is_chief", "list_devices", "set_distribution"]

_current = [None]  # the distribution set_distribution chose (Keras keeps it in a global context too)


def set_distribution(value):
    """Sets the distribution every later `fit`, `evaluate` and `predict` of every model uses.

    In a job of several processes, an exception nobody catches then ends every process of the job
    (printed with its process number) rather than leaving the others waiting.

    Args:
        value: a `DataParallel`, or None for one-process training.
    """
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"set_distribution: `value` must be a fc.distribution.DataParallel or None, got "
                        f"{type(value).__name__}")
    _current[0] = value
    if value is not None and value.distributed and not getattr(sys.excepthook, "_fitcore_aborts", False):
        sys.excepthook = _aborting_excepthook(sys.excepthook, value)


def distribution():
    """The distribution `set_distribution` set, or None.

    Returns:
        A `DataParallel` or None.
    """
    return _current[0]


def is_chief():
    """True unless this is a process other than 0 of a data-parallel run: what writes progress,
    logs and files (process 0 alone; the others compute the same thing and write nothing).

    Returns:
        True or False.
    """
    return active().is_chief


def active():
    """What the trainer asks: the distribution when more than one process trains, else an object
    with the same agreements made with oneself (`data_parallel.OneProcess`)."""
    value = _current[0]
    return value if value is not None and value.distributed else ONE_PROCESS


def _aborting_excepthook(previous, value):
    def hook(kind, error, tb):
        if _current[0] is value and value.distributed:
            abort(value._comm, error.with_traceback(tb))
        previous(kind, error, tb)

    hook._fitcore_aborts = True
    return hook
