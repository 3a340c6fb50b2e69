from fitcore.optimizers.optimizer import Optimizer, check_number


class Adagrad(Optimizer):
    """Adagrad, as Keras's: accumulator += g^2; w -= lr * g / sqrt(accumulator + epsilon).

    Args:
        learning_rate: a float >= 0 or a schedule from `fc.optimizers.schedules`.
        initial_accumulator_value: the accumulator's starting value, >= 0.
        epsilon: added inside the square root, >= 0.
        name: the optimizer's name.
        **kwargs: the base optimizer's arguments: `weight_decay`, `clipnorm`, `clipvalue`,
            `global_clipnorm` (see `fc.optimizers.Optimizer`).
    """

    core_name = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, name="adagrad", **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self._hyper = {"initial_accumulator_value": check_number("Adagrad", "initial_accumulator_value",
                                                                 initial_accumulator_value, 0.0),
                       "epsilon": check_number("Adagrad", "epsilon", epsilon, 0.0)}
