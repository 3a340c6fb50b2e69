"""The layer protocol: a layer holds configuration, output shapes and weights; `op()` names the
core kernel that computes it."""
import contextlib
import contextvars
import itertools
import re

import numpy as np

from fitcore.data.validation import check_core_computed, check_layer_fits, python_defined

_name_counters = {}
# Values that layers may still create (None: no limit). Loading a file sets it, so a file that
# declares huge layers fails with a clear error instead of allocating what it describes.
_weight_budget = contextvars.ContextVar("weight_budget", default=None)


@contextlib.contextmanager
def weight_budget(values):
    """Within the block, layers may create at most `values` weight values in all."""
    token = _weight_budget.set([values])
    try:
        yield
    finally:
        _weight_budget.reset(token)


def _claim_weight_values(count, owner):
    budget = _weight_budget.get()
    if budget is None:
        return
    if count > budget[0]:
        raise ValueError(f"{owner}: its weights need {count} values, more than the file being loaded carries")
    budget[0] -= count


def core_layer_names():
    """The layer classes fitcore offers, each one op of the core.

    Returns:
        A list of class names.
    """
    import fitcore.layers as layers

    return [name for name, cls in vars(layers).items()
            if isinstance(cls, type) and issubclass(cls, Layer) and cls.kind is not None]


def _exact_size(shape):
    """The number of values of `shape` (per-sample shapes: a list of them for several), as an exact
    Python int: numpy's int64 product would wrap around for sizes past 2**63."""
    if isinstance(shape, list):
        return sum(_exact_size(s) for s in shape)
    size = 1
    for d in shape:
        size *= int(d)
    return size


def unique_name(base):
    counter = _name_counters.setdefault(base, itertools.count())
    n = next(counter)
    return base if n == 0 else f"{base}_{n}"


def snake_case(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _shown(shape):
    if isinstance(shape, list):
        return "[" + ", ".join(_shown(s) for s in shape) + "]"
    return "(None, " + ", ".join(map(str, shape)) + ")"


class Weight:
    """One weight of a layer. Once its model is built, `value` is a view into the model's
    flat parameter buffer, so writing it writes what the core trains."""

    def __init__(self, name, shape, initial_value, trainable, regularizer=None):
        self.name = name
        self.shape = tuple(int(d) for d in shape)
        self.trainable = trainable
        self.regularizer = regularizer  # penalises the loss while the weight trains
        self.value = np.ascontiguousarray(initial_value, dtype=np.float32).reshape(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def numpy(self):
        return self.value.copy()

    def assign(self, array):
        self.value[...] = array

    def __repr__(self):
        return f"<Weight {self.name} shape={self.shape} trainable={self.trainable}>"


class Layer:
    """Base class. Subclasses set `kind` (the core op) and implement `compute_output_shape`,
    `build` (declaring weights with `add_weight`) and `op_config`."""

    kind = None

    def __init__(self, name=None, trainable=True, dtype=None, **kwargs):
        if python_defined(type(self), "call"):  # at construction: the user's call() would never run
            check_core_computed(self, "layer", core_layer_names())
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(kwargs)}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: `name` must be a string, got {name!r}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.trainable = bool(trainable)
        self.built = False
        self._weights = []
        self.input_shape = None  # per-sample shapes, set by build

    # --- what subclasses define -------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        """Per-sample output shape (no batch axis) for per-sample input shape(s)."""
        return input_shape

    def build(self, input_shape):
        pass

    def op_config(self):
        """(numbers, strings) settings for the core op."""
        return {}, {}

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable}

    # --- shared machinery ---------------------------------------------------------------------
    def add_weight(self, name, shape, initializer, trainable=True, regularizer=None):
        """Declares a weight of this layer (from build), after checking that it can fit in memory.

        Args:
            name: the weight's name within the layer ("kernel", "bias", ...).
            shape: its shape.
            initializer: a function of the shape giving the initial array.
            trainable: whether optimizers update it.
            regularizer: an fc.regularizers object, or None.

        Returns:
            The Weight.
        """
        count = _exact_size(shape)
        _claim_weight_values(count, f"{self.name}/{name}")  # a file being loaded: no more than it carries
        # Before the initializer allocates: this layer's weights so far and one sample's output must fit.
        check_layer_fits(f"{type(self).__name__} '{self.name}'", self.count_params() + count,
                         _exact_size(self.compute_output_shape(self.input_shape)))
        weight = Weight(f"{self.name}/{name}", shape, initializer(tuple(shape)), trainable, regularizer)
        self._weights.append(weight)
        return weight

    def _ensure_built(self, input_shape):
        if not self.built:
            self.input_shape = input_shape
            self.build(input_shape)
            self.built = True

    def __call__(self, inputs):
        """Applies the layer to symbolic tensors, building it on the first call.

        Args:
            inputs: an fc.Input(...) / layer-output tensor, or a list of them (merge layers).

        Returns:
            The output tensor.
        """
        from fitcore.layers.input_layer import SymbolicTensor

        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if not flat or not all(isinstance(t, SymbolicTensor) for t in flat):
            raise TypeError(f"{self.name}: layers are called on fc.Input(...) tensors or other layers' outputs, "
                            f"got {type(inputs).__name__}")
        check_core_computed(self, "layer", core_layer_names())  # a subclass naming no core op
        shapes = [t.shape[1:] for t in flat]
        in_shape = shapes if isinstance(inputs, (list, tuple)) else shapes[0]
        if self.built and self._weights and in_shape != self.input_shape:
            # A layer called again shares its weights: they only fit inputs of the first call's shape.
            raise ValueError(f"{self.name}: this layer was built for inputs of shape {_shown(self.input_shape)} "
                             f"and shares its weights between calls; got inputs of shape {_shown(in_shape)}")
        self._ensure_built(in_shape)
        out_shape = tuple(self.compute_output_shape(in_shape))
        check_layer_fits(f"{type(self).__name__} '{self.name}'", self.count_params(), _exact_size(out_shape))
        out = SymbolicTensor((None,) + out_shape, layer=self, inputs=flat)
        out.called_with_list = isinstance(inputs, (list, tuple))  # how to call it again when loading
        return out

    @property
    def weights(self):
        """Keras's order: trainable weights, then non-trainable, each in creation order."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self):
        return [w for w in self._weights if w.trainable and self.trainable]

    @property
    def non_trainable_weights(self):
        return [w for w in self._weights if not (w.trainable and self.trainable)]

    def get_weights(self):
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        from fitcore.data.validation import check_weight_list

        check_weight_list(self.weights, weights, self.name)
        for w, value in zip(self.weights, weights):
            w.assign(value)

    def count_params(self):
        return sum(w.size for w in self._weights)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
