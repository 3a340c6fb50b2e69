from fitcore.optimizers.optimizer import Optimizer, check_number


class RMSprop(Optimizer):
    """RMSprop, as Keras's (epsilon inside the square root), optionally with momentum and centered.

    Args:
        learning_rate: a float >= 0 or a schedule from `fc.optimizers.schedules`.
        rho: decay of the mean squared gradient, in [0, 1].
        momentum: in [0, 1].
        epsilon: added inside the square root, >= 0.
        centered: divide by the gradient's estimated variance rather than its second moment.
        name: the optimizer's name.
        **kwargs: the base optimizer's arguments: `weight_decay`, `clipnorm`, `clipvalue`,
            `global_clipnorm` (see `fc.optimizers.Optimizer`).
    """

    core_name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, name="rmsprop",
                 **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self._hyper = {"rho": check_number("RMSprop", "rho", rho, 0.0, 1.0),
                       "momentum": check_number("RMSprop", "momentum", momentum, 0.0, 1.0),
                       "epsilon": check_number("RMSprop", "epsilon", epsilon, 0.0),
                       "centered": bool(centered)}
