"""Model: a graph of layers from Input tensors to outputs, its weights, and (through Trainer)
compile / fit / evaluate / predict."""
import os

import numpy as np

from fitcore.layers.input_layer import InputLayer, SymbolicTensor
from fitcore.layers.layer import unique_name
from fitcore.models import weight_homes
from fitcore.models.graph import layers_in_order, lower, trace
from fitcore.trainers.trainer import Trainer


def _nested_view(tensors):
    """model.layers as Keras lists them: each layer once in call order, with the layers spliced in
    from a model used as a layer replaced by that model (None when nothing is nested)."""
    if not any(getattr(t, "nested_in", None) is not None for t in tensors):
        return None
    view, seen = [], set()
    for t in tensors:
        entry = getattr(t, "nested_in", None) or t.layer
        if id(entry) not in seen:
            seen.add(id(entry))
            view.append(entry)
    return view


def _as_tensor_list(value, arg):
    """(tensors, names or None) from a tensor, a list/tuple of tensors or a dict of them."""
    if isinstance(value, dict):
        names, tensors = list(value), list(value.values())
    elif isinstance(value, (list, tuple)):
        names, tensors = None, list(value)
    else:
        names, tensors = None, [value]
    if not tensors or not all(isinstance(t, SymbolicTensor) for t in tensors):
        raise TypeError(f"Model: `{arg}` must be fc.Input(...) / layer-output tensors (one, a list or a dict), "
                        f"got {value!r}")
    return tensors, names


def refuse_python_call(model):
    """A subclassed model with a Keras-style call() would never have it run: a TypeError saying so.

    Args:
        model: the model being constructed.
    """
    from fitcore.data.validation import check_core_computed

    check_core_computed(model, "model", ["fc.Sequential([...layers])", "fc.Model(inputs, outputs) (a subclass may "
                                         "pass them to super().__init__)"])


class Model(Trainer):
    """A model: a graph of layers from fc.Input(...) tensors to outputs (Keras's functional API),
    with compile / fit / evaluate / predict. Called on symbolic tensors it is a layer of another
    model; called on arrays it predicts.

    Args:
        inputs: an fc.Input(...) tensor, a list of them or a dict of them (inputs by name).
        outputs: a tensor computed from the inputs, a list or a dict of them (outputs by name).
        name: the model's name."""
    def __init__(self, inputs=None, outputs=None, name=None):
        refuse_python_call(self)
        super().__init__()
        if inputs is None or outputs is None:
            raise TypeError("Model: pass `inputs` and `outputs` (functional API), or use fc.Sequential")
        self.name = name or unique_name("functional")
        self._set_graph(inputs, outputs)

    # --- the graph ---------------------------------------------------------------------------
    def _set_graph(self, inputs, outputs):
        in_tensors, in_names = _as_tensor_list(inputs, "inputs")
        out_tensors, out_names = _as_tensor_list(outputs, "outputs")
        for t in in_tensors:
            if not isinstance(t.layer, InputLayer):
                raise TypeError(f"Model: `inputs` must be fc.Input(...) tensors, got the output of '{t.layer.name}'")
        tensors = trace(in_tensors, out_tensors)
        layers = layers_in_order(tensors)
        self._nested = _nested_view(tensors)
        names = [layer.name for layer in layers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"Model: layer names must be unique, repeated: {duplicates}")
        self._inputs, self._outputs = in_tensors, out_tensors
        self._input_names = in_names or [t.layer.name for t in in_tensors]
        self._output_names = out_names or [t.layer.name for t in out_tensors]
        self._layers = layers
        self._relower()

    def _relower(self):
        """(Re)builds the core network, e.g. after layers were frozen; weights keep their values."""
        self._network, self._bindings = lower(self._inputs, self._outputs, self._layers, self._model_calls())
        self._core = None  # a new network needs a new core trainer

    def _model_calls(self):
        """Which thread trains this model and how deeply threads are inside its calls (made on first use)."""
        calls = self.__dict__.get("_calls")
        if calls is None:
            calls = self.__dict__.setdefault("_calls", weight_homes.ModelCalls(self.name))
        return calls

    def _weight_offset(self, weight):
        """Where `weight` lies in this model's flat parameter buffer (in floats)."""
        return self._bindings.offset(weight)

    @property
    def built(self):
        """Whether the model has its weights (it knows its input shapes).

        Returns:
            A bool."""
        return getattr(self, "_network", None) is not None

    @property
    def layers(self):
        """The model's layers in call order; a model used as a layer inside it is listed as that model."""
        return list(self._nested) if getattr(self, "_nested", None) else list(self._layers)

    # --- a model used as a layer -------------------------------------------------------------
    def __call__(self, inputs, training=None, mask=None):
        """Calls the model as Keras does.

        On symbolic tensors the model is used as a layer of another model: its graph is spliced into
        the caller's (the same layer objects, so the same weights). On arrays it predicts.

        Args:
            inputs: symbolic tensors (one, a list, or a dict by input name) or arrays of the same forms.
            training: on arrays only inference (None or False) is computed.
            mask: accepted when None (fitcore has no masking).

        Returns:
            The output tensor(s) (symbolic inputs) or numpy array(s) (arrays).
        """
        flat = list(inputs.values()) if isinstance(inputs, dict) else (
            list(inputs) if isinstance(inputs, (list, tuple)) else [inputs])
        if mask is not None:
            raise TypeError(f"{self.name}: fitcore has no masking; got mask={mask!r}")
        if flat and all(isinstance(t, SymbolicTensor) for t in flat):
            return self._call_symbolic(inputs, flat)
        if training:
            raise ValueError(f"{self.name}: calling a model on arrays computes inference only; got training=True "
                             f"(use fit or train_on_batch to train)")
        return self.predict_on_batch(inputs)

    def _call_symbolic(self, inputs, flat):
        if not self.built:
            self._build_from_data(np.empty((0,) + tuple(flat[0].shape[1:]), np.float32))
        if isinstance(inputs, dict):
            missing = [n for n in self._input_names if n not in inputs]
            if missing:
                raise ValueError(f"{self.name}: no tensor given for input(s) {missing}; the inputs are "
                                 f"{self._input_names}")
            flat = [inputs[n] for n in self._input_names]
        if len(flat) != len(self._inputs):
            raise ValueError(f"{self.name}: the model takes {len(self._inputs)} input(s), got {len(flat)} tensor(s)")
        mapped = {}
        for own, given in zip(self._inputs, flat):
            if tuple(given.shape[1:]) != tuple(own.shape[1:]):
                raise ValueError(f"{self.name}: input '{own.layer.name}' has shape {own.shape}, got a tensor of "
                                 f"shape {given.shape}")
            mapped[id(own)] = given
        for t in trace(self._inputs, self._outputs):
            if id(t) in mapped:
                continue
            args = [mapped[id(i)] for i in t.inputs]
            as_list = getattr(t, "called_with_list", len(args) > 1)
            out = t.layer._call_symbolic(args if as_list else args[0], record=False)
            out.nested_in = self  # the calling model lists this model, not its inner layers
            mapped[id(t)] = out
        outs = [mapped[id(t)] for t in self._outputs]
        return outs[0] if len(outs) == 1 else outs

    @property
    def trainable(self):
        """Whether the model's layers train; setting it sets every layer's flag (recompile to apply)."""
        return getattr(self, "_trainable", True)

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in self.layers:
            layer.trainable = bool(value)

    @property
    def input_names(self):
        """The inputs' names (data given as a dict is matched by them).

        Returns:
            A list of strings."""
        return list(self._input_names)

    @property
    def output_names(self):
        """The outputs' names (per-output losses, metrics and targets by name use them).

        Returns:
            A list of strings."""
        return list(self._output_names)

    @property
    def input_shapes(self):
        """The inputs' per-sample shapes.

        Returns:
            A list of tuples."""
        return [t.shape[1:] for t in self._inputs]

    @property
    def output_shapes(self):
        """The outputs' per-sample shapes.

        Returns:
            A list of tuples."""
        return [t.shape[1:] for t in self._outputs]

    @property
    def input_value_checks(self):
        """{input name: [check(array, arg)]}: layers reading an input's values directly (Embedding ids)
        validate them in Python before any step."""
        checks = {}
        for t in trace(self._inputs, self._outputs):
            for i in t.inputs:
                if isinstance(i.layer, InputLayer) and hasattr(t.layer, "check_ids"):
                    checks.setdefault(i.layer.name, []).append(t.layer.check_ids)
        return checks

    @property
    def inputs(self):
        """The model's input tensors.

        Returns:
            A list of SymbolicTensor."""
        return list(self._inputs)

    @property
    def outputs(self):
        """The model's output tensors.

        Returns:
            A list of SymbolicTensor."""
        return list(self._outputs)

    def get_layer(self, name=None, index=None):
        """A layer of the model by name or by position in `model.layers`.

        Args:
            name: the layer's name.
            index: its index in `model.layers` (used when given).

        Returns:
            The layer (or nested model).
        """
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise TypeError(f"get_layer: `index` must be an int, got {index!r}")
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        if name is None:
            raise ValueError("Provide either a layer name or layer index at `get_layer`.")
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}.")

    # --- weights -----------------------------------------------------------------------------
    def _distinct_layers(self):
        """Each layer once: a layer repeated in a stack shares its weights (Keras lists them once)."""
        return list({id(layer): layer for layer in self.layers}.values())

    @property
    def weights(self):
        """Every weight, per layer in `layers` order (a nested model's where it is listed), each once.

        Returns:
            A list of Weight."""
        return [w for layer in self._distinct_layers() for w in layer.weights]

    @property
    def trainable_weights(self):
        """The weights the optimizer updates.

        Returns:
            A list of Weight."""
        return [w for layer in self._distinct_layers() for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        """The weights the optimizer leaves alone (frozen layers, moving statistics).

        Returns:
            A list of Weight."""
        return [w for layer in self._distinct_layers() for w in layer.non_trainable_weights]

    def get_weights(self):
        """Copies of every weight, in Keras's order (per layer: kernel, bias, ...).

        Returns:
            A list of numpy arrays."""
        self._require_built("get_weights")
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        """Sets every weight; all arrays are checked before any is written.

        Args:
            weights: a list of arrays in get_weights()'s order and shapes."""
        from fitcore.data.validation import check_weight_list

        self._require_built("set_weights")
        check_weight_list(self.weights, weights, "Model")  # all checked before any is written
        for w, value in zip(self.weights, weights):
            w.assign(value)

    def count_params(self):
        """The number of weight values of the model.

        Returns:
            An int."""
        self._require_built("count_params")
        return sum(w.size for w in self.weights)

    def save_weights(self, filepath):
        """Writes the weights alone to a file.

        Args:
            filepath: a path ending in ".weights.npz" (or ".weights.h5" where supported)."""
        from fitcore.saving.weights import save_weights

        self._require_built("save_weights")
        save_weights(self, filepath)

    def load_weights(self, filepath):
        """Reads weights written by save_weights into this model (same architecture).

        Args:
            filepath: the file's path."""
        from fitcore.saving.weights import load_weights

        self._require_built("load_weights")
        load_weights(self, filepath)

    def save(self, filepath, overwrite=True):
        """Architecture, weights, compile settings and optimizer state in one file, written atomically;
        fc.models.load_model(filepath) gives the model back.

        Args:
            filepath: '.keras' writes Keras 3's format (keras.saving.load_model reads it; needs h5py,
                the `keras` extra); '.fitcore' writes fitcore's own format (numpy only).
            overwrite: whether an existing file may be replaced.

        Returns:
            None.
        """
        from fitcore.saving import keras_format
        from fitcore.saving.model_file import _check_path, save_model

        if not overwrite and os.path.exists(os.fspath(filepath)):
            raise FileExistsError(f"save: {os.fspath(filepath)!r} exists and overwrite=False")
        nested = [layer.name for layer in self.layers if isinstance(layer, Model)]
        if nested:
            raise ValueError(f"save: a model containing other models ({', '.join(nested)}) cannot be saved whole "
                             f"yet; save_weights / load_weights keep its weights")
        if _check_path(filepath, "save").endswith(".keras"):
            keras_format.save_model(self, filepath)
        else:
            save_model(self, filepath)

    def to_keras(self, compile=True):
        """The equivalent Keras 3 model (Keras must be installed).

        Args:
            compile: whether the Keras model gets the compile settings and optimizer state.

        Returns:
            A keras.Model with the same architecture, weights and (compiled) training state.
        """
        from fitcore.saving.keras_format import to_keras

        self._require_built("to_keras")
        return to_keras(self, compile=compile)

    def summary(self, line_length=None, print_fn=None, show_trainable=False, expand_nested=False):
        """Prints the layers, output shapes and parameter counts as Keras's table.

        Args:
            line_length: the table's total width (None: fitted to the content).
            print_fn: a callable given each line instead of print.
            show_trainable: add a column saying whether each layer trains.
            expand_nested: accepted for Keras compatibility (nested models' layers are listed)."""
        from fitcore.models.summary import summary_lines

        self._require_built("summary")
        if print_fn is not None and not callable(print_fn):
            raise TypeError(f"summary: `print_fn` must be callable, got {print_fn!r}")
        for line in summary_lines(self, line_length=line_length, show_trainable=show_trainable):
            (print_fn or print)(line)

    def _require_built(self, what):
        if not self.built:
            raise ValueError(f"{what}: the model has no weights yet; give it an fc.Input(...) first, "
                             f"call build(input_shape), or fit it on data")

    def _build_from_data(self, x):
        """Models with declared inputs are built already; Sequential overrides this."""

    def __reduce__(self):
        """pickle support: the model travels as its model file's bytes (architecture, weights,
        compile settings, optimizer state; the format of `save`, no pickled code).

        Returns:
            (fitcore.saving.model_file.model_from_bytes, (bytes,)).
        """
        from fitcore.saving.model_file import model_from_bytes, model_to_bytes

        return model_from_bytes, (model_to_bytes(self),)

    def __deepcopy__(self, memo):
        """copy.deepcopy: an independent model through the same bytes as pickle.

        Args:
            memo: deepcopy's memo (unused: nothing of the model is shared with the copy).

        Returns:
            A new model.
        """
        from fitcore.saving.model_file import model_from_bytes, model_to_bytes

        return model_from_bytes(model_to_bytes(self))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
