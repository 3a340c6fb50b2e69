"""Arrays read batch by batch, never loaded whole: np.memmap, and objects that index like arrays
without holding their data in memory (an h5py or zarr dataset: `shape`, `dtype`, `__getitem__`).
Each batch gathers its rows (read in increasing order, for sequential reads) and is checked and
converted like any streamed batch; a shuffled epoch's order is the core's own for in-memory arrays.
Before training, values are scanned a chunk at a time with the array path's checks, so a bad
label, weight or id deep in the file is refused before any step rather than after earlier steps
changed the weights."""
import math

import numpy as np

from fitcore import _core
from fitcore.data.adapters.data_adapter import DataAdapter
from fitcore.data.standardize import standardize_inputs, standardize_sample_weights, standardize_targets
from fitcore.data.validation import check_same_length, to_numpy


def is_lazy_array(value):
    """True for an array read on demand (np.memmap; h5py / zarr datasets), not held in memory.

    Args:
        value: one leaf of the user's data.

    Returns:
        True or False.
    """
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
    """True when an array of the structure (array, list/tuple, dict) is lazily read.

    Args:
        value: the user's x, y or sample_weight.

    Returns:
        True or False.
    """
    return any(is_lazy_array(v) for v in _leaves(value))


def _rows(value, index, restore=None):
    """The rows `index` of a structure (array, list/tuple by position, dict by name) of arrays,
    then put in the order `restore` when given."""
    def take(v):
        rows = v[index]
        return rows if restore is None else np.asarray(rows)[restore]

    if value is None:
        return None
    if isinstance(value, dict):
        return {k: take(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [take(v) for v in value]
    return take(value)


SCAN_BYTES = 1 << 24  # a scanned chunk's float32 size at most (~16 MB), so memory stays bounded
SCAN_ROWS = 65536


def _scan(value, n, check):
    """Calls check(rows) on consecutive chunks of a structure's rows, never reading it whole."""
    row_bytes = sum(4 * int(np.prod(leaf.shape[1:])) for leaf in _leaves(value) if leaf is not None)
    step = max(1, min(SCAN_ROWS, SCAN_BYTES // max(1, row_bytes)))
    for first in range(0, n, step):
        check(_rows(value, slice(first, min(n, first + step))))


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
    """Arrays read batch by batch (memmaps and the like), rows [start, stop) of them.

    Args:
        x: the inputs (array, list or dict of arrays).
        y: the targets, or None.
        sample_weight: the weights, or None.
        start: the first row of the view.
        stop: the row after its last.
    """

    def __init__(self, x, y, sample_weight, start, stop):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.start, self.stop = start, stop

    @classmethod
    def from_user_data(cls, x, model, y=None, sample_weight=None, losses=None, arg_prefix=""):
        """Checks lengths and shapes on the first row, then the values a step would refuse (labels,
        weights, Embedding ids) chunk by chunk; x is read only when an Embedding reads its values.

        Args:
            x: the inputs (array, list or dict of arrays, some lazily read).
            model: the model they must fit.
            y: the targets, or None.
            sample_weight: the weights, or None.
            losses: the compiled losses (they check the targets), or None.
            arg_prefix: prefixed to argument names in errors.

        Returns:
            The adapter over all rows.
        """
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
        if y is not None:
            _scan(y, n, lambda rows: standardize_targets(model, rows, losses, arg=arg_prefix + "y"))
        if sample_weight is not None:
            _scan(sample_weight, n, lambda rows: standardize_sample_weights(
                model, rows, n, arg=arg_prefix + "sample_weight"))
        if getattr(model, "input_value_checks", None):
            _scan(x, n, lambda rows: standardize_inputs(model, rows, arg=arg_prefix + "x"))
        return cls(x, y, sample_weight, 0, n)

    @property
    def num_samples(self):
        return self.stop - self.start

    def num_batches(self, batch_size):
        return math.ceil(self.num_samples / batch_size)

    def take(self, start, stop):
        return LazyArrayAdapter(self.x, self.y, self.sample_weight, self.start + start, self.start + stop)

    splits_by_row = True

    def iterate(self, batch_size, shuffle, seed, part=(0, 1)):
        """One pass in batches, each read from the arrays when it is due.

        Args:
            batch_size: rows per batch.
            shuffle: visit the rows in the core's seeded permutation rather than in order.
            seed: `(seed, epoch, pass)` as the core's `epoch_permutation` takes them.
            part: `(index, count)`: only rows [rows * index // count, rows * (index + 1) // count)
                of each batch are read (a data-parallel process's part), as the core splits them.

        Returns:
            An iterator of `(x, y, sample_weight)` batches.
        """
        n = self.num_samples
        index_of_part, parts = part
        # The core's own order for in-memory arrays, so a shuffled fit sees the same batches either way.
        order = _core.epoch_permutation(*seed, n) + self.start if shuffle else None
        for first in range(0, n, batch_size):
            rows = min(n, first + batch_size) - first
            lo, hi = first + rows * index_of_part // parts, first + rows * (index_of_part + 1) // parts
            if order is None:
                index, restore = slice(self.start + lo, self.start + hi), None
            else:  # read in increasing row order (sequential reads; h5py needs it), then permuted back
                batch = order[lo:hi]
                ascending = np.argsort(batch, kind="stable")
                index, restore = batch[ascending], np.argsort(ascending)
            yield (_rows(self.x, index, restore), _rows(self.y, index, restore),
                   _rows(self.sample_weight, index, restore))

    def first_element(self):
        return next(self.iterate(1, False, None))


class _Len:
    """A stand-in with a first dimension, so check_same_length compares lengths without reading data."""

    def __init__(self, n):
        self.shape = (n,)
