"""Process-wide settings: thread count, the default of fit(view_metrics=...)."""
from fitcore import _core
from fitcore.data.validation import check_positive_int


def set_num_threads(n):
    """Sets the number of threads the core uses, for every thread of the process.

    OMP_NUM_THREADS sets the default. In a process forked after the core ran threads, only 1 is
    possible (OpenMP's thread pool does not survive fork; the core runs on one thread there).

    Args:
        n: a positive int, at most 8 per core (at least 64 allowed).

    Raises:
        ValueError: `n` is not a positive int or is above that bound.
        RuntimeError: `n - 1` threads cannot be started (a process limit), or `n` > 1 in a forked child.
    """
    check_positive_int("n", n, owner="set_num_threads")
    if n > _core.max_threads():
        raise ValueError(f"set_num_threads: `n` must be at most {_core.max_threads()} on this machine "
                         f"(8 threads per core), got {n}")
    _core.set_num_threads(n)


def get_num_threads():
    """The number of threads the core uses.

    Returns:
        An int >= 1.
    """
    return _core.get_num_threads()


_VIEW_METRICS = {"value": "auto"}


def set_view_metrics(value):
    """Sets what fit(view_metrics="auto") does, process-wide.

    Args:
        value: "auto" (a live plot in notebooks when metrics were compiled, epochs > 1 and
            verbose > 0), True (always; a text chart in a terminal) or False (never).
    """
    if value not in ("auto", True, False) or (value == 1 and value is not True) or (value == 0 and value is not False):
        raise ValueError(f"set_view_metrics: `value` must be 'auto', True or False, got {value!r}")
    _VIEW_METRICS["value"] = value


def get_view_metrics():
    """What fit(view_metrics="auto") does.

    Returns:
        "auto", True or False.
    """
    return _VIEW_METRICS["value"]
