"""Process-wide settings: thread count, instruction-set level, the default of fit(view_metrics=...)."""
import os
import warnings

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


# --- instruction-set level of the core's kernels ------------------------------------------------
ISA_LEVELS = ("baseline", "avx2", "avx512")
ISA_ENV = "FITCORE_ISA"


def supported_isa():
    """Returns the widest instruction-set level this CPU runs the core's kernels at.

    Returns:
        One of `"baseline"` (any x86-64 or other CPU: Eigen's kernels), `"avx2"` (AVX2 + FMA) or
        `"avx512"` (AVX-512 F, BW, DQ and VL).
    """
    return _core.supported_isa()


def get_isa():
    """Returns the instruction-set level the core's kernels run at now.

    Returns:
        `"baseline"`, `"avx2"` or `"avx512"`: the supported level, capped by `set_isa` or the
        `FITCORE_ISA` environment variable.
    """
    return _core.active_isa()


def _isa_problem(level):
    """What is wrong with `level` as an instruction-set level, or None when it is usable."""
    if not isinstance(level, str) or level not in ISA_LEVELS:
        return f"must be one of {', '.join(map(repr, ISA_LEVELS))}"
    if ISA_LEVELS.index(level) > ISA_LEVELS.index(supported_isa()):
        return f"is not supported by this CPU (it supports up to {supported_isa()!r})"
    return None


def set_isa(level):
    """Caps the instruction-set level of the core's kernels for the whole process.

    Like the thread count, it is a process-wide setting that applies from the next kernel call on.
    The environment variable `FITCORE_ISA` sets it at import. At the `"avx2"` and `"avx512"` levels
    each output of a matrix product is one fused multiply-add chain in order, so the two give the
    same bits; `"baseline"` (Eigen's kernels, no FMA) differs from them by float rounding. In a
    build made with `-DFITCORE_NATIVE=ON` (`-march=native`) the compiler may use the build
    machine's widest instructions outside the kernels too; portable builds (wheels) do not.

    Args:
        level: `"baseline"`, `"avx2"` or `"avx512"`, at most `supported_isa()`; or `None` for the
            widest supported level.

    Raises:
        ValueError: `level` is not one of the level names, or the CPU does not support it.
    """
    if level is None:
        level = supported_isa()
    problem = _isa_problem(level)
    if problem:
        raise ValueError(f"set_isa: `level` {problem}, got {level!r}")
    _core.set_isa_limit(level)


def _apply_isa_environment(environ):
    """Applies `FITCORE_ISA` at import: a level name caps the kernels, empty or unset changes nothing.

    A name that is no level (a typo) fails the import with a ValueError, so a job that asks for a
    level never silently runs another. A level this CPU lacks (the same job on an older machine)
    gives a RuntimeWarning naming the variable, and the kernels run at the widest supported level.

    Args:
        environ: the process environment (a mapping).

    Raises:
        ValueError: the variable's value is not `baseline`, `avx2` or `avx512`.
    """
    raw = environ.get(ISA_ENV, "")
    level = raw.strip().lower()
    if not level:
        return
    if level not in ISA_LEVELS:
        raise ValueError(f"{ISA_ENV}={raw!r} is not an instruction-set level: use one of {', '.join(ISA_LEVELS)}")
    problem = _isa_problem(level)
    if problem:
        warnings.warn(f"{ISA_ENV}={raw!r} {problem}: running at {supported_isa()!r}", RuntimeWarning, stacklevel=2)
        return
    set_isa(level)


_apply_isa_environment(os.environ)
