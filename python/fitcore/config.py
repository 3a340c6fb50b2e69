"""Process-wide settings: thread count, the default of fit(view_metrics=...)."""
from fitcore import _core
from fitcore.data.validation import check_positive_int


def set_num_threads(n):
    """Sets the number of threads the core uses (OpenMP and Eigen), process-wide.

    Results do not depend on it: the core's reductions use a fixed partition.

    Args:
        n: a positive int; OMP_NUM_THREADS sets the default.
    """
    _core.set_num_threads(check_positive_int("n", n, owner="set_num_threads"))


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
