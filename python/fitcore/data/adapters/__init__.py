"""One adapter per kind of input, behind the DataAdapter interface; get_adapter picks one."""
import numbers
import os
from collections.abc import Iterator

import numpy as np

from fitcore.data.adapters.array_adapter import ArrayAdapter
from fitcore.data.adapters.data_adapter import DataAdapter
from fitcore.data.adapters.generator_adapter import GeneratorAdapter
from fitcore.data.adapters.iterable_adapter import IterableAdapter, TorchDataLoaderAdapter
from fitcore.data.adapters.lazy_array_adapter import LazyArrayAdapter, has_lazy_leaf, is_lazy_array
from fitcore.data.adapters.py_dataset_adapter import PyDatasetAdapter

_EXPECTED = ("an array (numpy, np.memmap, torch or jax tensor, pandas DataFrame/Series), a list or dict of "
             "arrays, a generator, a dataset (list of batches, torch DataLoader, tf.data.Dataset) or a PyDataset")


def stream_adapter(x, arg="x"):
    """The adapter for data that makes its own batches.

    Args:
        x: the user's data.
        arg: its argument name, for errors.

    Returns:
        A streaming adapter (generator, dataset, torch DataLoader, PyDataset), or None for arrays;
        TypeError for other kinds (a path, a set, None).
    """
    if isinstance(x, (str, bytes, os.PathLike, set, frozenset)) or x is None:
        hint = " (fitcore reads no files: load the data first, e.g. with np.load)" \
            if isinstance(x, (str, bytes, os.PathLike)) else ""
        raise TypeError(f"`{arg}` must be {_EXPECTED}; got {type(x).__name__}{hint}")
    if isinstance(x, (np.ndarray, dict, numbers.Number)) or hasattr(x, "__array__") or hasattr(x, "__dlpack__") \
            or is_lazy_array(x):
        return None  # arrays (a scalar is refused there: it has no batch axis)
    if isinstance(x, (list, tuple)):
        # A list whose elements are tuples (or dicts) is a list of batches; otherwise arrays by position.
        return IterableAdapter(x) if x and isinstance(x[0], (tuple, dict)) else None
    if isinstance(x, Iterator):
        return GeneratorAdapter(x)
    if any(c.__name__ == "DataLoader" and c.__module__.startswith("torch.") for c in type(x).__mro__):
        return TorchDataLoaderAdapter(x)
    if hasattr(x, "__getitem__") and hasattr(x, "__len__"):
        return PyDatasetAdapter(x)
    if hasattr(x, "__iter__"):
        return IterableAdapter(x)
    raise TypeError(f"`{arg}` must be {_EXPECTED}; got {type(x).__name__}")


def check_stream_arguments(stream, arg_prefix="", **values):
    """y / sample_weight come from the yielded elements of a generator or dataset, never beside it.

    Args:
        stream: the streaming adapter.
        arg_prefix: prefixed to argument names in errors.
        **values: the arguments given beside it (`y=...`, `sample_weight=...`): each must be None.
    """
    for name, value in values.items():
        if value is not None:
            raise ValueError(f"`{arg_prefix}{name}` must be None when `{arg_prefix}x` is a {stream.description}: "
                             f"its elements carry it (yield (x, y) or (x, y, sample_weight)); "
                             f"got {type(value).__name__}")


def array_adapter(x, model, y=None, sample_weight=None, losses=None, arg_prefix=""):
    """In-memory arrays, or arrays read batch by batch when any of them is lazily loaded.

    Args:
        x: the inputs.
        model: the model they must fit.
        y: the targets, or None.
        sample_weight: the weights, or None.
        losses: the compiled losses, or None.
        arg_prefix: prefixed to argument names in errors.

    Returns:
        An ArrayAdapter or a LazyArrayAdapter.
    """
    adapter = LazyArrayAdapter if any(has_lazy_leaf(v) for v in (x, y, sample_weight) if v is not None) \
        else ArrayAdapter
    return adapter.from_user_data(x, model, y=y, sample_weight=sample_weight, losses=losses, arg_prefix=arg_prefix)


def get_adapter(x, model, y=None, sample_weight=None, losses=None, arg_prefix="", one_batch=False):
    """The adapter for the user's data: the one place that tells input kinds apart.

    Args:
        x: the user's inputs: arrays (numpy, memmap, torch, jax, pandas; a list or dict of them),
            a generator, a re-iterable of batches, or a PyDataset.
        model: the model the data must fit; a Sequential without an Input is built from `x`
            (or from the first batch a generator or dataset yields).
        y: targets for array inputs (None for data that makes its own batches).
        sample_weight: per-sample (or per-timestep) weights for array inputs.
        losses: the compiled losses (they check the targets), or None.
        arg_prefix: prefixed to argument names in errors ("validation_data: ").
        one_batch: the data is a single batch (train_on_batch and friends): arrays read whole,
            whatever their kind; a generator or dataset is a TypeError.

    Returns:
        An `ArrayAdapter` (in-memory arrays the core batches itself), a `LazyArrayAdapter`
        (memmaps and other lazily read arrays) or a streaming adapter (generators, datasets).
    """
    stream = stream_adapter(x, arg_prefix + "x")
    if stream is None:
        model._build_from_data(x)
        if one_batch:
            return ArrayAdapter.from_user_data(x, model, y, sample_weight, losses, arg_prefix)
        return array_adapter(x, model, y, sample_weight, losses, arg_prefix)
    if one_batch:
        raise TypeError(f"`{arg_prefix}x` must be arrays (one batch), got a {stream.description}")
    check_stream_arguments(stream, arg_prefix, y=y, sample_weight=sample_weight)
    if not model.built:
        from fitcore.data.batch_stream import unpack_element

        try:
            first = stream.first_element()
        except StopIteration:
            raise ValueError(f"`{arg_prefix}x` yielded no batches") from None
        model._build_from_data(unpack_element(first, 1, f"the first batch of `{arg_prefix}x`")[0])
    return stream


__all__ = ["ArrayAdapter", "DataAdapter", "GeneratorAdapter", "IterableAdapter", "LazyArrayAdapter",
           "PyDatasetAdapter", "TorchDataLoaderAdapter", "array_adapter", "check_stream_arguments", "get_adapter",
           "stream_adapter"]
