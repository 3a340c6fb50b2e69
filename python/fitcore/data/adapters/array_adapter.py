"""In-memory arrays: numpy or anything numpy can read, by position or by name."""
import math

from fitcore.data.adapters.data_adapter import DataAdapter
from fitcore.data.standardize import (apply_class_weight, standardize_inputs,
                                      standardize_sample_weights, standardize_targets)
from fitcore.data.validation import check_same_length


class ArrayAdapter(DataAdapter):
    def __init__(self, inputs, targets=None, weights=None):
        self.inputs = inputs
        self.targets = targets
        self.weights = weights

    @classmethod
    def from_user_data(cls, x, model, y=None, sample_weight=None, losses=None, arg_prefix=""):
        """Validates x / y / weights against the model and converts them (zero-copy when float32)."""
        inputs = standardize_inputs(model, x, arg=arg_prefix + "x")
        if not inputs[0].shape[0]:
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
        """class_weight multiplied into the sample weights (training data only, as Keras)."""
        if self.targets is None:
            raise ValueError("`class_weight` needs targets `y`")
        return ArrayAdapter(self.inputs, self.targets,
                            apply_class_weight(class_weight, self.targets, self.weights, model, losses))

    @property
    def arrays(self):
        return self.inputs, self.targets, self.weights

    @property
    def num_samples(self):
        return self.inputs[0].shape[0]

    def num_batches(self, batch_size):
        return math.ceil(self.num_samples / batch_size)

    def take(self, start, stop):
        """The samples [start, stop) as an adapter of views (no copy)."""
        def cut(arrays):
            return None if arrays is None else [None if a is None else a[start:stop] for a in arrays]
        return ArrayAdapter(cut(self.inputs), cut(self.targets), cut(self.weights))
