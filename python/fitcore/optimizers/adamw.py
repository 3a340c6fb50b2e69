from fitcore.optimizers.adam import Adam


class AdamW(Adam):
    """AdamW, as Keras's: Adam with decoupled weight decay (w -= w * weight_decay * lr before each update).

    Args:
        learning_rate: a float >= 0 or a schedule from `fc.optimizers.schedules`.
        weight_decay: the decoupled decay rate (not None).
        beta_1: decay of the first-moment estimate, in [0, 1].
        beta_2: decay of the second-moment estimate, in [0, 1].
        epsilon: added to the root of the second moment, >= 0.
        amsgrad: use the maximum of past second moments (AMSGrad).
        name: the optimizer's name.
        **kwargs: the base optimizer's arguments: `weight_decay`, `clipnorm`, `clipvalue`,
            `global_clipnorm` (see `fc.optimizers.Optimizer`).
    """

    core_name = "adamw"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad, name=name,
                         weight_decay=weight_decay, **kwargs)
