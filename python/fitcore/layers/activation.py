from fitcore import activations
from fitcore.layers.layer import Layer


class Activation(Layer):
    """Applies an activation function to its input.

    Args:
        activation: the activation's name: linear (or None), relu, sigmoid, tanh, softmax, gelu,
            elu, silu, softplus.
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`; on a Sequential's first
            layer also `input_shape` / `input_dim`).

    Returns:
        Called on a tensor, the activated tensor of the same shape."""

    kind = "activation"

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def op_config(self):
        return {}, {"activation": self.activation}

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}
