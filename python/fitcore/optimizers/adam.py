from fitcore.optimizers.optimizer import Optimizer, check_number


class Adam(Optimizer):
    """Keras Adam (epsilon 1e-7, outside the square root), optionally amsgrad."""

    core_name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, name="adam",
                 **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self._hyper = {"beta_1": check_number("Adam", "beta_1", beta_1, 0.0, 1.0),
                       "beta_2": check_number("Adam", "beta_2", beta_2, 0.0, 1.0),
                       "epsilon": check_number("Adam", "epsilon", epsilon, 0.0),
                       "amsgrad": bool(amsgrad)}
