"""Argument checks shared by every entry point, each naming the argument it rejects."""
import math
import numbers
import os
from collections.abc import Collection

import numpy as np


INT64_MAX = 2**63 - 1  # counts, sizes and indices reach the core as int64


def _named(name, owner):
    """How a message names the argument: "`name`", after "Owner: " when the owner is known."""
    return f"{owner}: `{name}`" if owner else f"`{name}`"


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _int_tuple(value, low, n=None):
    """`value` (an int, or a tuple/list of ints) as a tuple of ints >= `low`: `n` of them, or (n None)
    any number but none; None when it is not one."""
    items = (value,) * (n or 1) if _is_int(value) else value
    if not isinstance(items, (tuple, list)) or not items or len(items) != (n or len(items)) \
            or not all(_is_int(v) and v >= low for v in items):
        return None
    return tuple(int(v) for v in items)


def check_int(name, value, low=None, allow_none=False, owner=None, high=INT64_MAX, why=None):
    """`value` as an int in [low, high] (numpy's ints too, never a bool; None passes when allowed), or
    an error naming the argument.

    Args:
        name: the argument's name.
        value: its value.
        low: the least value allowed, or None.
        allow_none: None is accepted and returned.
        owner: the class or function whose argument it is, prefixed to the message.
        high: the largest allowed value; by default int64's, as the core counts in int64.
        why: why `high` is the limit, shown in the message (int64's reason by default).

    Returns:
        `value` as a Python int (or None).

    Raises:
        TypeError: not an int.
        ValueError: outside [low, high].
    """
    if value is None and allow_none:
        return None
    where = _named(name, owner)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where} must be an int{' or None' if allow_none else ''}, got {value!r}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{where} must be >= {low}, got {value}")
    if high is not None and value > high:
        why = why or ("the core counts in int64" if high == INT64_MAX else None)
        raise ValueError(f"{where} must be <= {high}{f' ({why})' if why else ''}, got {value}")
    return value


def check_positive_int(name, value, allow_none=False, owner=None):
    """An int >= 1 (or None when allowed), as check_int.

    Args:
        name: the argument's name.
        value: its value.
        allow_none: None is accepted and returned.
        owner: the class or function whose argument it is, prefixed to the message.

    Returns:
        `value` as a Python int (or None).
    """
    return check_int(name, value, low=1, allow_none=allow_none, owner=owner)


def check_real(name, value, low=None, high=None, low_open=False, high_open=False, allow_none=False, owner=None,
               shown=None):
    """A finite real number within optional bounds, or an error naming the argument.

    Args:
        name: the argument's name.
        value: its value (bool is refused).
        low: the least value allowed, or None.
        high: the greatest value allowed, or None.
        low_open: `low` itself is refused.
        high_open: `high` itself is refused.
        allow_none: None is accepted and returned.
        owner: the class or function whose argument it is, prefixed to the message.
        shown: how the message names the value, when not "`name`" (e.g. "`class_weight`[3]").

    Returns:
        `value` as a float (or None).
    """
    if value is None and allow_none:
        return None
    where = f"{owner}: {shown}" if owner and shown else shown or _named(name, owner)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        interval = (("(" if low_open else "[") + ("-inf" if low is None else f"{low}") + ", "
                    + ("inf" if high is None else f"{high}") + (")" if high_open else "]"))
        raise ValueError(f"{where} must be in {interval}, got {value!r}")
    return value


def check_bool(name, value, owner=None):
    """True or False (numpy's bool too), or TypeError naming the argument.

    Args:
        name: the argument's name.
        value: its value.
        owner: the class or function whose argument it is, prefixed to the message.

    Returns:
        `value` as a Python bool.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{_named(name, owner)} must be True or False, got {value!r}")
    return bool(value)


def check_choice(name, value, allowed, owner=None, fold_case=False):
    """One of a few allowed values (compared with ==, a bool never standing for 1 or 0), or ValueError
    listing them and showing the value as given.

    Args:
        name: the argument's name.
        value: its value.
        allowed: the values accepted.
        owner: the class or function whose argument it is, prefixed to the message.
        fold_case: a string is compared in lower case (Keras's "SAME" is "same").

    Returns:
        `value` (in lower case when folded).
    """
    if fold_case and isinstance(value, str):
        value, given = value.lower(), value
    else:
        given = value
    try:
        ok = any(value is choice or (not isinstance(value, bool) and value == choice) for choice in allowed)
    except (TypeError, ValueError):  # an array compares elementwise: never one of the choices
        ok = False
    if not ok:
        raise ValueError(f"{_named(name, owner)} must be one of "
                         f"{', '.join(repr(choice) for choice in allowed)}, got {given!r}")
    return value


def check_axis(name, value, owner=None):
    """An int axis counting the batch axis as 0, which no layer may take (it joins or normalizes
    per-sample axes).

    Args:
        name: the argument's name.
        value: its value.
        owner: the class or function whose argument it is, prefixed to the message.

    Returns:
        `value` as a Python int.
    """
    value = check_int(name, value, owner=owner)
    if value == 0:
        raise ValueError(f"{_named(name, owner)} must be a non-zero int (axis 0 is the batch), got 0")
    return value


def check_int_tuple(name, value, n, low=1, owner=None):
    """An int, or a tuple/list of `n` ints, each at least `low` (kernel sizes, strides, paddings),
    or ValueError naming the argument.

    Args:
        name: the argument's name.
        value: its value.
        n: how many ints (one per spatial axis).
        low: the least value allowed.
        owner: the class or function whose argument it is, prefixed to the message.

    Returns:
        A tuple of `n` Python ints.
    """
    items = _int_tuple(value, low, n)
    if items is None:
        kind = "positive" if low == 1 else "non-negative"
        raise ValueError(f"{_named(name, owner)} must be a {kind} int or a tuple of {n} {kind} ints, got {value!r}")
    return items


def check_sample_shape(name, value, owner=None):
    """A per-sample shape (no batch axis): an int (a 1-tuple) or a non-empty tuple of positive ints.

    Args:
        name: the argument's name.
        value: its value.
        owner: the class or function whose argument it is, prefixed to the message.

    Returns:
        A tuple of Python ints.
    """
    shape = _int_tuple(value, 1)
    if shape is None:
        raise ValueError(f"{_named(name, owner)} must be a non-empty tuple of positive ints (no batch axis), "
                         f"got {value!r}")
    return shape


def check_batch_shape(name, value, owner=None):
    """A shape with the batch axis first (`batch_shape`, `batch_input_shape`), e.g. (None, 784).

    Args:
        name: the argument's name.
        value: its value.
        owner: the class or function whose argument it is, prefixed to the message.

    Returns:
        The per-sample part, a tuple (for check_sample_shape).
    """
    if not isinstance(value, (tuple, list)) or len(value) < 2:
        raise ValueError(f"{_named(name, owner)} must be a tuple with the batch axis first, e.g. (None, 784); "
                         f"got {value!r}")
    return tuple(value[1:])


def check_padding(value, allowed=("valid", "same"), owner=None):
    """A convolution's or pooling's `padding`: one of `allowed`, in any case (as Keras).

    Args:
        value: the argument.
        allowed: the paddings the layer has.
        owner: the layer class, prefixed to the message.

    Returns:
        The padding in lower case.
    """
    return check_choice("padding", value, allowed, owner=owner, fold_case=True)


def check_data_format(value, owner=None):
    """A layer's `data_format`: None or "channels_last", the only layout the core has (Keras's default).

    Args:
        value: the argument.
        owner: the layer class, prefixed to the message.

    Returns:
        "channels_last".
    """
    check_choice("data_format", value, (None, "channels_last"), owner=owner)
    return "channels_last"


def check_verbose(value, name="verbose"):
    """0, 1, 2 or "auto", as given (fit's params["verbose"] keeps "auto", as Keras).

    Args:
        value: the argument.
        name: its name, for the error.

    Returns:
        `value`.
    """
    if isinstance(value, bool) or value not in (0, 1, 2, "auto"):
        raise ValueError(f"`{name}` must be 0, 1, 2 or 'auto', got {value!r}")
    return value


def check_fraction(name, value):
    """A float in [0, 1) (validation_split).

    Args:
        name: the argument's name.
        value: its value.

    Returns:
        `value` as a float.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a float in [0, 1), got {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1), got {value!r}")
    return float(value)


def to_numpy(value):
    """numpy's view of an array-like: numpy itself, anything with `__array__` (pandas, torch, jax) or
    only `__dlpack__`. Zero-copy where the producer allows it.

    Args:
        value: the array-like.

    Returns:
        A numpy array.
    """
    if isinstance(value, np.ndarray):
        return value
    if getattr(value, "requires_grad", False) and hasattr(value, "detach"):
        value = value.detach()  # a torch tensor tracking gradients refuses to export its memory
    if not hasattr(value, "__array__") and hasattr(value, "__dlpack__"):
        return np.from_dlpack(value)
    return np.asarray(value)


def as_numeric_array(value, arg):
    """`value` as a numpy array of a numeric dtype, or TypeError naming `arg`.

    Args:
        value: the array-like.
        arg: the argument's name, for errors.

    Returns:
        A numpy array with a batch axis.
    """
    if isinstance(value, (str, bytes, set, frozenset, os.PathLike)) or value is None:
        raise TypeError(f"`{arg}` must be an array, got {type(value).__name__}")
    try:
        array = to_numpy(value)
    except Exception as error:  # ragged lists and the like
        raise TypeError(f"`{arg}` could not be read as an array: {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"`{arg}` must hold numbers (bool, int or float), got dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError(f"`{arg}` must have a batch axis, got a scalar")
    return array


def as_float32(array):
    """C-contiguous float32: the array itself when it already is (zero-copy).

    Args:
        array: a numpy array.

    Returns:
        The float32 array.
    """
    return np.ascontiguousarray(array, dtype=np.float32)


def as_class_ids(array):
    """Class ids as C-contiguous int32 or int64, so every id stays exact (float32 rounds ids past
    2**24): the array itself when it already is (zero-copy), other integers widened, floats (already
    checked to hold whole numbers) converted.

    Args:
        array: a numeric numpy array of class ids, checked by the loss.

    Returns:
        An int32 or int64 C-contiguous array.
    """
    if array.dtype in (np.int32, np.int64):
        return np.ascontiguousarray(array)
    return np.ascontiguousarray(array, dtype=np.int64)


def check_finite(array, arg):
    """ValueError naming `arg` when `array` holds NaN or inf.

    Args:
        array: a numpy array.
        arg: the argument's name.
    """
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{arg}` must be finite; it holds NaN or inf")


def check_same_length(arrays_by_arg):
    """All arrays share their first dimension, or ValueError naming them.

    Args:
        arrays_by_arg: `{argument name: array (or None, skipped)}`.
    """
    lengths = {arg: a.shape[0] for arg, a in arrays_by_arg.items() if a is not None}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{arg}: {n}" for arg, n in lengths.items())
        raise ValueError(f"Data arrays must have the same number of samples; got {shown}")


def check_weight_list(weights, values, owner):
    """For set_weights: the same count and shapes as the weights, numbers.

    Args:
        weights: the layer's or model's Weight objects.
        values: the arrays given.
        owner: the layer or model name, for errors.
    """
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{owner}.set_weights: `weights` must be a list of arrays, got {type(values).__name__}")
    if len(values) != len(weights):
        raise ValueError(f"{owner}.set_weights: expected {len(weights)} arrays, got {len(values)}")
    for i, (w, v) in enumerate(zip(weights, values)):
        v = as_numeric_array(v, f"weights[{i}]")
        if v.shape != w.shape:
            raise ValueError(f"{owner}.set_weights: weights[{i}] ({w.name}) must have shape {w.shape}, got {v.shape}")


def check_validation_freq(validation_freq):
    """fit's `validation_freq` as a predicate on 0-based epochs.

    Args:
        validation_freq: an int N (every N-th epoch, counting from 1) or a collection of 1-based
            epoch numbers.

    Returns:
        A function `epoch -> bool`.
    """
    if isinstance(validation_freq, bool):
        raise TypeError(f"`validation_freq` must be an int or a collection of ints, got {validation_freq!r}")
    if isinstance(validation_freq, numbers.Integral):
        n = check_positive_int("validation_freq", validation_freq)
        return lambda epoch: (epoch + 1) % n == 0
    if isinstance(validation_freq, Collection) and not isinstance(validation_freq, (str, bytes)):
        chosen = {check_positive_int("validation_freq entries", e) for e in validation_freq}
        return lambda epoch: epoch + 1 in chosen
    raise TypeError(f"`validation_freq` must be an int or a collection of ints, got {validation_freq!r}")


def check_view_metrics(view_metrics):
    """fit's `view_metrics`: "auto", True, False or None, as given.

    Args:
        view_metrics: the argument.

    Returns:
        `view_metrics`.
    """
    if view_metrics not in ("auto", True, False, None) or type(view_metrics) in (int, float):
        raise ValueError(f"`view_metrics` must be 'auto' (the fc.config default), True or False, got {view_metrics!r}")
    return view_metrics


def check_steps_per_epoch(steps_per_epoch):
    """fit's `steps_per_epoch`: a positive int, -1 (until a callback stops training) or None.

    Args:
        steps_per_epoch: the argument.

    Returns:
        It as an int, or None.
    """
    steps_per_epoch = check_int("steps_per_epoch", steps_per_epoch, low=-1, allow_none=True)
    if steps_per_epoch == 0:
        raise ValueError("`steps_per_epoch` must be a positive int, -1 or None, got 0")
    return steps_per_epoch


def split_at(num_samples, validation_split):
    """Keras's split point: the last fraction of the samples (before shuffling) validates.

    Args:
        num_samples: n.
        validation_split: the fraction in [0, 1).

    Returns:
        floor(n * (1 - validation_split)): the first validation row.
    """
    return int(math.floor(num_samples * (1.0 - validation_split)))


def python_defined(cls, method):
    """The first class in `cls`'s MRO from outside fitcore that defines `method`, or None: code the
    C++ core cannot run or differentiate (a Keras-style `call`).

    Args:
        cls: a class.
        method: a method name.

    Returns:
        A class or None.
    """
    for klass in cls.__mro__:
        if method in vars(klass) and not klass.__module__.startswith("fitcore."):
            return klass
    return None


def check_core_computed(obj, kind, supported):
    """TypeError unless `obj` is computed by the core: a `kind` ("layer", "loss", "model") defining
    `call` in Python, or (layers, losses) naming no core kernel, is not supported; the message lists
    what is.

    Args:
        obj: the layer or loss.
        kind: "layer" or "loss", for the message.
        supported: the names of what fitcore offers instead.
    """
    cls = type(obj)
    own = python_defined(cls, "call")
    kernel = {"layer": "kind", "loss": "core_name"}.get(kind)
    if own is None and (kernel is None or getattr(obj, kernel, None) is not None):
        return
    kinds = kind + ("es" if kind.endswith("s") else "s")
    why = f"{own.__name__} defines call()" if own is not None else f"{cls.__name__} names no core kernel"
    raise TypeError(f"fitcore {kinds} run in the C++ core, which computes their gradients; custom Python {kinds} "
                    f"are not supported ({why}). Use one of: {', '.join(sorted(supported))}")


def physical_memory():
    """This machine's physical memory.

    Returns:
        Bytes, or None where the system does not say.
    """
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


# Training keeps per weight value: the layer's value and its copy in the model's flat buffer (both
# alive while the model is built), its gradient and up to two optimizer slots (Adam), float32 each;
# per output value of a sample: the activation and its gradient.
BYTES_PER_WEIGHT_VALUE = 5 * 4
BYTES_PER_ACTIVATION_VALUE = 2 * 4


def check_layer_fits(owner, weight_values, sample_values):
    """ValueError naming `owner` when training it could not fit in physical memory even on one sample:
    its weights (value, model copy, gradient, optimizer slots) plus one sample's output and gradient.
    Checked before anything is allocated.

    Args:
        owner: the layer (or input) name for the message, e.g. "Dense 'dense'".
        weight_values: how many weight values it holds (an exact int, any size).
        sample_values: how many values one sample's output holds.
    """
    memory = physical_memory()
    needed = BYTES_PER_WEIGHT_VALUE * weight_values + BYTES_PER_ACTIVATION_VALUE * sample_values
    if memory is not None and needed > memory:
        parts = [f"{weight_values:,} weight values x {BYTES_PER_WEIGHT_VALUE} bytes for the value, its copy in the "
                 f"model, gradient and optimizer slots"] if weight_values else []
        parts.append(f"{sample_values:,} values per sample x {BYTES_PER_ACTIVATION_VALUE} bytes for the values "
                     f"and their gradients")
        raise ValueError(f"{owner}: training it needs at least {needed / 2**30:,.1f} GiB ({', plus '.join(parts)}), "
                         f"more than this machine's {memory / 2**30:,.1f} GiB of memory")
