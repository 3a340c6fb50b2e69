"""Sequential: a stack of single-input layers, built once its input shape is known."""
import numpy as np

from fitcore.layers.input_layer import Input, InputLayer, SymbolicTensor
from fitcore.layers.layer import Layer, unique_name
from fitcore.models.model import Model, refuse_python_call
from fitcore.trainers.trainer import Trainer


class Sequential(Model):
    def __init__(self, layers=None, name=None):
        refuse_python_call(self)
        Trainer.__init__(self)
        self.name = name or unique_name("sequential")
        self._stack = []
        self._input = None
        self._network = None
        if layers is not None and not isinstance(layers, (list, tuple)):
            raise TypeError(f"Sequential: `layers` must be a list, got {type(layers).__name__}")
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        if isinstance(layer, SymbolicTensor) and isinstance(layer.layer, InputLayer):
            if self._input is not None or self._stack:
                raise ValueError("Sequential: fc.Input(...) may only come first")
            self._input = layer
        elif isinstance(layer, Layer) and not isinstance(layer, InputLayer):
            self._stack.append(layer)
        else:
            raise TypeError(f"Sequential: expected a layer or fc.Input(...), got {layer!r}")
        self._network = None
        if self._input is not None and self._stack:
            self._connect()

    def _connect(self):
        x = self._input
        for layer in self._stack:
            x = layer(x)
        self._set_graph(self._input, x)

    def build(self, input_shape):
        """Builds from a shape with the batch axis first, e.g. (None, 784)."""
        if self._input is None:
            self._input = Input(tuple(input_shape[1:]))
        if not self._stack:
            raise ValueError("Sequential: add layers before building")
        self._connect()

    def _build_from_data(self, x):
        if self.built:
            return
        shape = getattr(x, "shape", None)
        if shape is None:
            shape = np.shape(x)
        if len(shape) < 2:
            raise ValueError(f"Sequential: cannot infer the input shape from `x` of shape {tuple(shape)}; "
                             f"start the model with fc.Input(shape)")
        self.build(tuple(shape))

    @property
    def layers(self):
        return list(self._stack)

    @property
    def output_names(self):
        """Known before the model is built: the last layer names the single output."""
        return super().output_names if self.built else [layer.name for layer in self._stack[-1:]]
