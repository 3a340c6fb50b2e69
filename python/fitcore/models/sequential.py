"""Sequential: a stack of single-input layers, built once its input shape is known."""
import numpy as np

from fitcore.layers.input_layer import Input, InputLayer, SymbolicTensor
from fitcore.layers.layer import Layer, unique_name
from fitcore.models.model import Model, refuse_python_call
from fitcore.trainers.trainer import Trainer


class Sequential(Model):
    """A linear stack of layers, as `keras.Sequential`.

    Args:
        layers: a list of layers (and models), optionally starting with fc.Input(shape).
        name: the model's name.
    """

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
        """Adds a layer (or a model used as a layer, or fc.Input(...) first) on top of the stack.

        Args:
            layer: a Layer, a Model, or an fc.Input(...) tensor (only as the first entry). A first
                layer given `input_shape=` / `input_dim=` starts the model with that Input, as Keras.
        """
        if isinstance(layer, SymbolicTensor) and isinstance(layer.layer, InputLayer):
            if self._input is not None or self._stack:
                raise ValueError("Sequential: fc.Input(...) may only come first")
            self._input = layer
        elif (isinstance(layer, Layer) and not isinstance(layer, InputLayer)) or isinstance(layer, Model):
            if self._input is None and not self._stack and getattr(layer, "_input_shape_arg", None) is not None:
                self._input = Input(layer._input_shape_arg)
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
        """Builds the model for inputs of the given shape.

        Args:
            input_shape: the shape with the batch axis first, e.g. (None, 784)."""
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

    def pop(self, rebuild=True):
        """Removes the last layer of the stack.

        Args:
            rebuild: rebuild the model's graph without it (as Keras; the model stays usable).

        Returns:
            The removed layer.
        """
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        self._network = None
        self._core = None
        if rebuild and self._input is not None and self._stack:
            self._connect()
        return layer

    @property
    def layers(self):
        """The stacked layers (and models), without the Input.

        Returns:
            A list."""
        return list(self._stack)

    @property
    def output_names(self):
        """Known before the model is built: the last layer names the single output."""
        return super().output_names if self.built else [layer.name for layer in self._stack[-1:]]
