from fitcore.optimizers.optimizer import Optimizer, check_number


class SGD(Optimizer):
    """Keras SGD: v = momentum * v - lr * g; w += v (nesterov: w += momentum * v - lr * g)."""

    core_name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self._hyper = {"momentum": check_number("SGD", "momentum", momentum, 0.0, 1.0),
                       "nesterov": bool(nesterov)}
