"""In-memory arrays: numpy or anything numpy can read, by position or by name."""
import math

from fitcore import _core
from fitcore.data.adapters.data_adapter import DataAdapter
from fitcore.data.standardize import (apply_class_weight, standardize_inputs,
                                      standardize_sample_weights, standardize_targets)
from fitcore.data.validation import check_same_length


class StandardizedBatch(tuple):
    """`(inputs, targets, weights)` already checked and converted: the core's arrays for one step."""


class ArrayAdapter(DataAdapter):
    """Whole arrays in memory, one float32 C-contiguous array per model input / output.

    Args:
        inputs: the input arrays, in the model's input order.
        targets: the target arrays in the model's output order, or None (predict).
        weights: per output, the sample weights or None.
    """

    def __init__(self, inputs, targets=None, weights=None):
        self.inputs = inputs
        self.targets = targets
        self.weights = weights

    @classmethod
    def from_user_data(cls, x, model, y=None, sample_weight=None, losses=None, arg_prefix="", allow_empty=False):
        """Validates x / y / weights against the model and converts them (zero-copy when float32).

        Args:
            x: the inputs (array, list or dict of arrays).
            model: the model they must fit.
            y: the targets, or None.
            sample_weight: the weights, or None.
            losses: the compiled losses (they check the targets), or None.
            arg_prefix: prefixed to argument names in errors.
            allow_empty: no rows is fine (a data-parallel process's part of a batch smaller than
                the number of processes).

        Returns:
            The adapter.
        """
        inputs = standardize_inputs(model, x, arg=arg_prefix + "x")
        if not inputs[0].shape[0] and not allow_empty:
            raise ValueError(f"`{arg_prefix}x` is empty: it has no samples")
        targets = standardize_targets(model, y, losses, arg=arg_prefix + "y") if y is not None else None
        weights = standardize_sample_weights(model, sample_weight, inputs[0].shape[0],
                                             arg=arg_prefix + "sample_weight")
        named = {f"{arg_prefix}x" + (f"[{i}]" if len(inputs) > 1 else ""): a for i, a in enumerate(inputs)}
        named.update({f"{arg_prefix}y" + (f"[{i}]" if len(targets) > 1 else ""): a
                      for i, a in enumerate(targets or [])})
        named.update({f"{arg_prefix}sample_weight" + (f"[{i}]" if len(weights) > 1 else ""): w
                      for i, w in enumerate(weights)})
        check_same_length(named)
        return cls(inputs, targets, weights)

    def with_class_weight(self, class_weight, model, losses):
        """class_weight multiplied into the sample weights (training data only, as Keras).

        Args:
            class_weight: `{class_index: weight}`.
            model: the model.
            losses: the compiled losses.

        Returns:
            A new adapter with the weights.
        """
        if self.targets is None:
            raise ValueError("`class_weight` needs targets `y`")
        return ArrayAdapter(self.inputs, self.targets,
                            apply_class_weight(class_weight, self.targets, self.weights, model, losses))

    @property
    def arrays(self):
        """`(inputs, targets, weights)` for the core."""
        return self.inputs, self.targets, self.weights

    @property
    def num_samples(self):
        """The number of rows."""
        return self.inputs[0].shape[0]

    def num_batches(self, batch_size):
        """ceil(rows / batch_size)."""
        return math.ceil(self.num_samples / batch_size)

    def take(self, start, stop):
        """The rows [start, stop) as an adapter of views (no copy).

        Args:
            start: the first row.
            stop: the row after the last (clipped to the data).

        Returns:
            A new ArrayAdapter.
        """
        def cut(arrays):
            return None if arrays is None else [None if a is None else a[start:stop] for a in arrays]
        return ArrayAdapter(cut(self.inputs), cut(self.targets), cut(self.weights))

    def iterate(self, batch_size, shuffle, seed):
        """One pass in batches gathered in Python, in the order the core itself draws (so a fit that
        goes step by step, for a Python metric, trains on the same batches as one the core batches).

        Args:
            batch_size: rows per batch.
            shuffle: visit the rows in the seeded permutation rather than in order.
            seed: `(seed, epoch, pass)` as the core's `epoch_permutation` takes them.

        Returns:
            An iterator of `StandardizedBatch`es.
        """
        n = self.num_samples
        order = _core.epoch_permutation(*seed, n) if shuffle else None
        for first in range(0, n, batch_size):
            rows = slice(first, first + batch_size) if order is None else order[first:first + batch_size]

            def pick(arrays):
                return None if arrays is None else [None if a is None else a[rows] for a in arrays]
            yield StandardizedBatch((pick(self.inputs), pick(self.targets), pick(self.weights)))

    def first_element(self):
        """The first batch of one row."""
        return next(self.iterate(1, False, None))
