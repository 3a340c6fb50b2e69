"""Argument checks shared by every entry point, each naming the argument it rejects."""
import math
import numbers
import os

import numpy as np


def check_int(name, value, low=None, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an int{' or None' if allow_none else ''}, got {value!r}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"`{name}` must be >= {low}, got {value}")
    return value


def check_positive_int(name, value, allow_none=False):
    return check_int(name, value, low=1, allow_none=allow_none)


def check_fraction(name, value):
    """A float in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a float in [0, 1), got {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1), got {value!r}")
    return float(value)


def to_numpy(value):
    """numpy's view of an array-like: numpy itself, anything with `__array__` (pandas, torch, jax) or
    only `__dlpack__`. Zero-copy where the producer allows it."""
    if isinstance(value, np.ndarray):
        return value
    if getattr(value, "requires_grad", False) and hasattr(value, "detach"):
        value = value.detach()  # a torch tensor tracking gradients refuses to export its memory
    if not hasattr(value, "__array__") and hasattr(value, "__dlpack__"):
        return np.from_dlpack(value)
    return np.asarray(value)


def as_numeric_array(value, arg):
    """`value` as a numpy array of a numeric dtype, or TypeError naming `arg`."""
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
    """C-contiguous float32: the array itself when it already is (zero-copy)."""
    return np.ascontiguousarray(array, dtype=np.float32)


def as_class_ids(array):
    """Class ids as C-contiguous int32 or int64, so every id stays exact (float32 rounds ids past
    2**24): the array itself when it already is (zero-copy), other integers widened, floats (already
    checked to hold whole numbers) converted."""
    if array.dtype in (np.int32, np.int64):
        return np.ascontiguousarray(array)
    return np.ascontiguousarray(array, dtype=np.int64)


def check_finite(array, arg):
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{arg}` must be finite; it holds NaN or inf")


def check_same_length(arrays_by_arg):
    """All arrays share their first dimension, or ValueError naming them."""
    lengths = {arg: a.shape[0] for arg, a in arrays_by_arg.items() if a is not None}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{arg}: {n}" for arg, n in lengths.items())
        raise ValueError(f"Data arrays must have the same number of samples; got {shown}")


def check_weight_list(weights, values, owner):
    """For set_weights: the same count and shapes as the weights, finite numbers."""
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{owner}.set_weights: `weights` must be a list of arrays, got {type(values).__name__}")
    if len(values) != len(weights):
        raise ValueError(f"{owner}.set_weights: expected {len(weights)} arrays, got {len(values)}")
    for i, (w, v) in enumerate(zip(weights, values)):
        v = as_numeric_array(v, f"weights[{i}]")
        if v.shape != w.shape:
            raise ValueError(f"{owner}.set_weights: weights[{i}] ({w.name}) must have shape {w.shape}, got {v.shape}")


def split_at(num_samples, validation_split):
    """Keras's split point: the last fraction of the samples (before shuffling) validates."""
    return int(math.floor(num_samples * (1.0 - validation_split)))
