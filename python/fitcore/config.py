"""Process-wide settings: thread count, the default of fit(view_metrics=...)."""
from fitcore import _core


def set_num_threads(n):
    """Sets the number of threads the core uses (OpenMP and Eigen); OMP_NUM_THREADS sets the default."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: `n` must be a positive int, got {n!r}")
    _core.set_num_threads(n)


def get_num_threads():
    return _core.get_num_threads()


_VIEW_METRICS = {"value": "auto"}


def set_view_metrics(value):
    """What fit(view_metrics="auto") does: "auto" (a live plot in notebooks), True or False."""
    if value not in ("auto", True, False) or (value == 1 and value is not True) or (value == 0 and value is not False):
        raise ValueError(f"set_view_metrics: `value` must be 'auto', True or False, got {value!r}")
    _VIEW_METRICS["value"] = value


def get_view_metrics():
    return _VIEW_METRICS["value"]
