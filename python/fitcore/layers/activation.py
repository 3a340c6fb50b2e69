from fitcore import activations
from fitcore.layers.layer import Layer


class Activation(Layer):
    """Applies an activation over the last axis."""

    kind = "activation"

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def op_config(self):
        return {}, {"activation": self.activation}

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}
