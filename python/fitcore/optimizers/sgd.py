from fitcore.optimizers.optimizer import Optimizer, check_number


class SGD(Optimizer):
    """Gradient descent with momentum, as Keras's SGD.

    v = momentum * v - lr * g; w += v (nesterov: w += momentum * v - lr * g).

    Args:
        learning_rate: a float >= 0 or a schedule from `fc.optimizers.schedules`.
        momentum: in [0, 1]; 0 is plain gradient descent.
        nesterov: Nesterov momentum.
        name: the optimizer's name.
        **kwargs: the base optimizer's arguments: `weight_decay`, `clipnorm`, `clipvalue`,
            `global_clipnorm` (see `fc.optimizers.Optimizer`).
    """

    core_name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self._hyper = {"momentum": check_number("SGD", "momentum", momentum, 0.0, 1.0),
                       "nesterov": bool(nesterov)}
