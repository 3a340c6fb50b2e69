"""Model: a graph of layers from Input tensors to outputs, its weights, and (through Trainer)
compile / fit / evaluate / predict."""
import os

import numpy as np

from fitcore.layers.input_layer import InputLayer, SymbolicTensor
from fitcore.layers.layer import unique_name
from fitcore.models.graph import layers_in_order, lower, trace
from fitcore.trainers.trainer import Trainer


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
        self._network = lower(self._inputs, self._outputs, self._layers)
        self._core = None  # a new network needs a new core trainer

    @property
    def built(self):
        return getattr(self, "_network", None) is not None

    @property
    def layers(self):
        return list(self._layers)

    @property
    def input_names(self):
        return list(self._input_names)

    @property
    def output_names(self):
        return list(self._output_names)

    @property
    def input_shapes(self):
        return [t.shape[1:] for t in self._inputs]

    @property
    def output_shapes(self):
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
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    def get_layer(self, name=None, index=None):
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No layer named {name!r}; layers are {[layer.name for layer in self.layers]}")

    # --- weights -----------------------------------------------------------------------------
    def _distinct_layers(self):
        """Each layer once: a layer repeated in a stack shares its weights (Keras lists them once)."""
        return list({id(layer): layer for layer in self.layers}.values())

    @property
    def weights(self):
        return [w for layer in self._distinct_layers() for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self._distinct_layers() for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self._distinct_layers() for w in layer.non_trainable_weights]

    def get_weights(self):
        """Copies of every weight, in Keras's order (per layer: kernel, bias, ...)."""
        self._require_built("get_weights")
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        from fitcore.data.validation import check_weight_list

        self._require_built("set_weights")
        check_weight_list(self.weights, weights, "Model")  # all checked before any is written
        for w, value in zip(self.weights, weights):
            w.assign(value)

    def count_params(self):
        self._require_built("count_params")
        return sum(w.size for w in self.weights)

    def save_weights(self, filepath):
        from fitcore.saving.weights import save_weights

        self._require_built("save_weights")
        save_weights(self, filepath)

    def load_weights(self, filepath):
        from fitcore.saving.weights import load_weights

        self._require_built("load_weights")
        load_weights(self, filepath)

    def save(self, filepath, overwrite=True):
        """Architecture, weights, compile settings and optimizer state in one file ('.keras' or
        '.fitcore'), written atomically; fc.models.load_model(filepath) gives the model back."""
        from fitcore.saving.model_file import save_model

        if not overwrite and os.path.exists(os.fspath(filepath)):
            raise FileExistsError(f"save: {os.fspath(filepath)!r} exists and overwrite=False")
        save_model(self, filepath)

    def summary(self, line_length=None, print_fn=None, show_trainable=False, expand_nested=False):
        """Prints (or hands to print_fn, line by line) the layers, output shapes and parameter counts."""
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
