from fitcore import initializers, regularizers
from fitcore.data.validation import check_axis, check_real
from fitcore.layers.layer import Layer


class BatchNormalization(Layer):
    """Normalizes over the last axis: in training with the batch's mean and (biased) variance,
    updating moving statistics; in inference (or when frozen) with the moving statistics.

    Args:
        axis: only -1, the last axis.
        momentum: float in [0, 1], the moving statistics' momentum.
        epsilon: small float added to the variance.
        center: whether to add the learned offset `beta`.
        scale: whether to multiply by the learned `gamma`.
        beta_initializer: initializer of beta (default "zeros").
        gamma_initializer: initializer of gamma (default "ones").
        moving_mean_initializer: initializer of the moving mean (default "zeros").
        moving_variance_initializer: initializer of the moving variance (default "ones").
        beta_regularizer: an fc.regularizers object or name, or None.
        gamma_regularizer: an fc.regularizers object or name, or None.
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`; on a Sequential's first
            layer also `input_shape` / `input_dim`).

    Returns:
        Called on a tensor, the normalized tensor of the same shape."""

    kind = "batch_normalization"

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_axis("axis", axis, owner="BatchNormalization")  # the last one, checked when built
        self.momentum = check_real("momentum", momentum, low=0, high=1, owner="BatchNormalization")
        self.epsilon = check_real("epsilon", epsilon, low=0, low_open=True, owner="BatchNormalization")
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer, "beta_regularizer")
        self.gamma_regularizer = regularizers.get(gamma_regularizer, "gamma_regularizer")

    def build(self, input_shape):
        if self.axis not in (-1, len(input_shape)):
            raise ValueError(f"{self.name}: only the last axis (-1 or {len(input_shape)}) can be normalized, "
                             f"got axis={self.axis}")
        shape = (input_shape[-1],)
        if self.scale:
            self.gamma = self.add_weight("gamma", shape, self.gamma_initializer, regularizer=self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight("beta", shape, self.beta_initializer, regularizer=self.beta_regularizer)
        self.moving_mean = self.add_weight("moving_mean", shape, self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape, self.moving_variance_initializer,
                                               trainable=False)

    def op_config(self):
        return {"momentum": self.momentum, "epsilon": self.epsilon, "center": float(self.center),
                "scale": float(self.scale), "frozen": float(not self.trainable)}, {}

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer)}
