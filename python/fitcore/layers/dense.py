from fitcore import activations, initializers, regularizers
from fitcore.data.validation import check_positive_int
from fitcore.layers.layer import Layer


class Dense(Layer):
    """Densely-connected layer: `activation(x @ kernel + bias)` over the last axis (3-D inputs:
    per timestep).

    Args:
        units: positive int, the output size.
        activation: the activation's name (None: linear).
        use_bias: whether to add a bias vector.
        kernel_initializer: initializer of the kernel (default "glorot_uniform").
        bias_initializer: initializer of the bias (default "zeros").
        kernel_regularizer: an fc.regularizers object or name for the kernel, or None.
        bias_regularizer: the same for the bias.
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`; on a Sequential's first
            layer also `input_shape` / `input_dim`).

    Returns:
        Called on a tensor (batch, ..., features), the tensor (batch, ..., units)."""

    kind = "dense"

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units, owner="Dense")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer,
                                        regularizer=self.bias_regularizer)

    def op_config(self):
        return {"use_bias": float(self.use_bias)}, {"activation": self.activation}

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "use_bias": self.use_bias, "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}
