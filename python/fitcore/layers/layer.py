"""The layer protocol: a layer holds configuration, output shapes and weights; `op()` names the
core kernel that computes it."""
import contextlib
import contextvars
import itertools
import re

import numpy as np

from fitcore.data.validation import (check_batch_shape, check_core_computed, check_layer_fits, check_sample_shape,
                                     python_defined)

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


def _pop_input_shape(owner, kwargs):
    """Keras's legacy `input_shape` / `input_dim` / `batch_input_shape` on a Sequential's first layer:
    the per-sample shape it declares (None when not given); removed from kwargs."""
    input_dim = kwargs.pop("input_dim", None)
    input_shape = kwargs.pop("input_shape", None)
    batch_input_shape = kwargs.pop("batch_input_shape", None)
    if input_dim is not None:
        input_shape = (input_dim,)
    elif input_shape is None and batch_input_shape is not None:
        input_shape = check_batch_shape("batch_input_shape", batch_input_shape, owner=owner)
    return None if input_shape is None else check_sample_shape("input_shape", input_shape, owner=owner)


def _check_call_kwargs(owner, kwargs):
    """Keras call arguments fitcore accepts only at their default (it has no masks)."""
    unexpected = sorted(k for k, v in kwargs.items() if not (k == "mask" and v is None))
    if unexpected:
        raise TypeError(f"{owner}: unexpected call argument(s) {unexpected} (fitcore has no masking)")


def _call_on_arrays(layer, inputs, training):
    """layer(x) on arrays: the layer alone, lowered to a throwaway plan and run in inference mode."""
    from fitcore.layers.input_layer import Input
    from fitcore.models.graph import run_inference

    if training:
        raise ValueError(f"{layer.name}: calling a layer on arrays computes inference only; got training=True "
                         f"(train it inside a model with fit)")
    as_list = isinstance(inputs, (list, tuple))
    arrays = [np.asarray(a, dtype=np.float32) for a in (inputs if as_list else [inputs])]
    if any(a.ndim < 2 for a in arrays):
        raise ValueError(f"{layer.name}: arrays passed to a layer need a batch axis first, got shapes "
                         f"{[a.shape for a in arrays]}")
    symbolic = [Input(a.shape[1:]) for a in arrays]
    out = layer._call_symbolic(symbolic if as_list else symbolic[0], record=False)
    return run_inference(symbolic, [out], arrays)[0]


class Weight:
    """One weight of a layer, with one home wherever the layer is used.

    Until a model holding it is built, the weight's value is its own array. Afterwards it lives in
    the flat parameter buffer of one of the models that contain it (the last one built or trained);
    other models sharing the layer keep copies that they refresh before they run
    (fitcore/models/weight_homes.py). Read it with `numpy()`, write it with `assign()`: both go to
    the home, under the core's parameter lock.

    Args:
        name: "layer_name/weight_name".
        shape: the weight's shape.
        initial_value: array-like of that shape.
        trainable: whether optimizers update it (when its layer is trainable too).
        regularizer: an fc.regularizers object penalising the loss, or None.
    """

    def __init__(self, name, shape, initial_value, trainable, regularizer=None):
        self.name = name
        self.shape = tuple(int(d) for d in shape)
        self.trainable = trainable
        self.regularizer = regularizer  # penalises the loss while the weight trains
        # the value until a model holding the weight is built (then dropped: the model's buffer holds it)
        self._initial = np.ascontiguousarray(initial_value, dtype=np.float32).reshape(self.shape)
        self._home = None  # (ParamBuffer, offset) once a model holding the weight is built

    @property
    def value(self):
        """The current value in place: a writable view of the home. Writing through it changes what
        the home's model computes, but other models sharing the weight notice only `assign()`."""
        if self._home is None:
            return self._initial
        buffer, offset = self._home
        return buffer.view(offset, self)

    @property
    def size(self):
        """The number of values.

        Returns:
            An int."""
        return int(np.prod(self.shape, dtype=np.int64))

    def numpy(self):
        """A copy of the current value.

        Returns:
            A float32 array of the weight's shape.
        """
        from fitcore.models import weight_homes

        return weight_homes.read(self)

    def assign(self, array):
        """Sets the value (broadcast to the weight's shape) where every model sharing it sees it.

        Args:
            array: array-like, broadcastable to the weight's shape.
        """
        from fitcore.models import weight_homes

        weight_homes.write(self, array)

    def __repr__(self):
        return f"<Weight {self.name} shape={self.shape} trainable={self.trainable}>"


class Layer:
    """Base class of the layers. A layer holds its configuration, output shapes and weights; its
    math is the core op named by `kind`. Subclasses implement `compute_output_shape`, `build`
    (declaring weights with `add_weight`), `op_config` and `get_config`. Layers defined in Python
    with a `call` cannot run: the core cannot differentiate them.

    Args:
        name: the layer's name (unique by default, from the class name).
        trainable: whether its weights train.
        dtype: accepted for Keras compatibility (the core computes in float32).
        **kwargs: `input_shape`, `input_dim` or `batch_input_shape` on a Sequential's first layer."""

    kind = None

    def __init__(self, name=None, trainable=True, dtype=None, **kwargs):
        if python_defined(type(self), "call"):  # at construction: the user's call() would never run
            check_core_computed(self, "layer", core_layer_names())
        self._input_shape_arg = _pop_input_shape(type(self).__name__, kwargs)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(kwargs)}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: `name` must be a string, got {name!r}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.trainable = bool(trainable)
        self.built = False
        self._weights = []
        self.input_shape = None  # per-sample shapes, set by build
        self._first_call = None  # (inputs, output) of the first symbolic call: layer.input / layer.output

    # --- what subclasses define -------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        """The per-sample output shape for per-sample input shape(s).

        Args:
            input_shape: a tuple without the batch axis (a list of them for merge layers).

        Returns:
            A tuple without the batch axis."""
        return input_shape

    def build(self, input_shape):
        """Creates the layer's weights for inputs of the given per-sample shape(s).

        Args:
            input_shape: a tuple without the batch axis (a list of them for merge layers)."""
        pass

    def op_config(self):
        """The core op's settings.

        Returns:
            (numbers, strings): two dicts of named settings."""
        return {}, {}

    def get_config(self):
        """The layer's configuration, JSON-able: `type(layer)(**layer.get_config())` rebuilds it.

        Returns:
            A dict."""
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

    def __call__(self, inputs, training=None, **kwargs):
        """Calls the layer: on symbolic tensors (fc.Input(...) or other layers' outputs) it adds a
        node to the graph; on arrays it computes the layer's output at once (inference mode).

        Args:
            inputs: a tensor or a list of tensors (merge layers), symbolic or array-like.
            training: accepted as Keras does; on arrays only inference (None or False) is computed.
            **kwargs: Keras's `mask` is accepted when None.

        Returns:
            A SymbolicTensor for symbolic inputs; a float32 numpy array for arrays.
        """
        from fitcore.layers.input_layer import SymbolicTensor

        _check_call_kwargs(self.name, kwargs)
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if flat and all(isinstance(t, SymbolicTensor) for t in flat):
            return self._call_symbolic(inputs)
        if flat and not any(isinstance(t, SymbolicTensor) for t in flat):
            return _call_on_arrays(self, inputs, training)
        raise TypeError(f"{self.name}: layers are called on fc.Input(...) tensors or other layers' outputs, "
                        f"or on arrays; got {type(inputs).__name__}")

    def _call_symbolic(self, inputs, record=True):
        """Adds this layer's call on symbolic `inputs` to the graph; the first recorded call is what
        `layer.input` / `layer.output` return."""
        from fitcore.layers.input_layer import SymbolicTensor

        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
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
        if record and self._first_call is None:
            self._first_call = (list(inputs) if isinstance(inputs, (list, tuple)) else inputs, out)
        return out

    @property
    def input(self):
        """The input tensor(s) of the layer's first call on symbolic tensors (as Keras)."""
        return self._call_record("input")[0]

    @property
    def output(self):
        """The output tensor of the layer's first call on symbolic tensors (as Keras)."""
        return self._call_record("output")[1]

    def _call_record(self, what):
        if self._first_call is None:
            raise AttributeError(f"Layer {self.name} has never been called and thus has no defined {what}.")
        return self._first_call

    @property
    def weights(self):
        """Keras's order: trainable weights, then non-trainable, each in creation order.

        Returns:
            A list of Weight."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self):
        """The weights the optimizer updates (none when the layer is frozen).

        Returns:
            A list of Weight."""
        return [w for w in self._weights if w.trainable and self.trainable]

    @property
    def non_trainable_weights(self):
        """The weights the optimizer leaves alone.

        Returns:
            A list of Weight."""
        return [w for w in self._weights if not (w.trainable and self.trainable)]

    def get_weights(self):
        """Copies of the layer's weights, in `weights` order.

        Returns:
            A list of numpy arrays."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        """Sets the layer's weights; every array is checked before any is written.

        Args:
            weights: a list of arrays in `weights` order and shapes."""
        from fitcore.data.validation import check_weight_list

        check_weight_list(self.weights, weights, self.name)
        for w, value in zip(self.weights, weights):
            w.assign(value)

    def count_params(self):
        """The number of weight values of the layer.

        Returns:
            An int."""
        return sum(w.size for w in self._weights)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
