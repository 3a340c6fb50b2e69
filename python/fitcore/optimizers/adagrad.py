from fitcore.optimizers.optimizer import Optimizer, check_number


class Adagrad(Optimizer):
    """Keras Adagrad: accumulator += g^2 (starting at initial_accumulator_value);
    w -= lr * g / sqrt(accumulator + epsilon)."""

    core_name = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, name="adagrad", **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self._hyper = {"initial_accumulator_value": check_number("Adagrad", "initial_accumulator_value",
                                                                 initial_accumulator_value, 0.0),
                       "epsilon": check_number("Adagrad", "epsilon", epsilon, 0.0)}
