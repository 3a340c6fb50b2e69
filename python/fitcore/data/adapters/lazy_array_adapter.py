"""Arrays read batch by batch, never loaded whole: np.memmap, and objects that index like arrays
without holding their data in memory (an h5py or zarr dataset: `shape`, `dtype`, `__getitem__`).
Each batch gathers its rows (sorted within the batch, for sequential reads) and is checked and
converted like any streamed batch; the epoch's order is drawn from the core's seed."""
import math

import numpy as np

from fitcore.data.adapters.data_adapter import DataAdapter
from fitcore.data.standardize import standardize_sample_weights
from fitcore.data.validation import check_same_length, to_numpy


def is_lazy_array(value):
    if isinstance(value, np.memmap):
        return True
    if isinstance(value, (np.ndarray, list, tuple, dict)) or hasattr(value, "__dlpack__"):
        return False  # in memory already (numpy, torch, jax)
    if type(value).__module__.split(".")[0] == "pandas":
        return False
    return all(hasattr(value, a) for a in ("shape", "dtype", "__getitem__", "__len__"))


def _leaves(value):
    """The arrays of a structure: one array, a list/tuple by position or a dict by name."""
    return list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, (list, tuple)) \
        else [value]


def has_lazy_leaf(value):
    return any(is_lazy_array(v) for v in _leaves(value))


def _rows(value, index):
    """The rows `index` of a structure (array, list/tuple by position, dict by name) of arrays."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: v[index] for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [v[index] for v in value]
    return value[index]


def _in_memory(value):
    """Leaves that are not lazy become numpy arrays, so fancy indexing works on every leaf."""
    def convert(v):
        return v if v is None or is_lazy_array(v) else to_numpy(v)
    if isinstance(value, dict):
        return {k: convert(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [convert(v) for v in value]
    return convert(value)


class LazyArrayAdapter(DataAdapter):
    repeats = True  # arrays: steps_per_epoch beyond one pass starts a new (reshuffled) pass

    def __init__(self, x, y, sample_weight, start, stop):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.start, self.stop = start, stop

    @classmethod
    def from_user_data(cls, x, model, y=None, sample_weight=None, losses=None, arg_prefix=""):
        """Checks lengths, and shapes and values on the first row, without reading the rest."""
        from fitcore.data.adapters.array_adapter import ArrayAdapter

        x, y, sample_weight = _in_memory(x), _in_memory(y), _in_memory(sample_weight)
        lengths = {}
        for arg, value in ((arg_prefix + "x", x), (arg_prefix + "y", y), (arg_prefix + "sample_weight", sample_weight)):
            leaves = [] if value is None else _leaves(value)
            for i, leaf in enumerate(leaves):
                lengths[arg + (f"[{i}]" if len(leaves) > 1 else "")] = _Len(len(leaf))
        check_same_length(lengths)
        n = next(iter(lengths.values())).shape[0]
        if n == 0:
            raise ValueError(f"`{arg_prefix}x` is empty: it has no samples")
        first = slice(0, 1)
        ArrayAdapter.from_user_data(_rows(x, first), model, _rows(y, first), _rows(sample_weight, first), losses,
                                    arg_prefix)
        if sample_weight is not None and not has_lazy_leaf(sample_weight):  # in memory: checked whole now
            standardize_sample_weights(model, sample_weight, n, arg=arg_prefix + "sample_weight")
        return cls(x, y, sample_weight, 0, n)

    @property
    def num_samples(self):
        return self.stop - self.start

    def num_batches(self, batch_size):
        return math.ceil(self.num_samples / batch_size)

    def take(self, start, stop):
        return LazyArrayAdapter(self.x, self.y, self.sample_weight, self.start + start, self.start + stop)

    def iterate(self, batch_size, shuffle, seed):
        n = self.num_samples
        order = np.random.default_rng(seed).permutation(n) + self.start if shuffle else None
        for first in range(0, n, batch_size):
            if order is None:
                index = slice(self.start + first, self.start + min(n, first + batch_size))
            else:
                index = np.sort(order[first:first + batch_size])
            yield _rows(self.x, index), _rows(self.y, index), _rows(self.sample_weight, index)

    def first_element(self):
        return next(self.iterate(1, False, None))


class _Len:
    """A stand-in with a first dimension, so check_same_length compares lengths without reading data."""

    def __init__(self, n):
        self.shape = (n,)
