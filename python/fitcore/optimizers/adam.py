from fitcore.optimizers.optimizer import Optimizer, check_number


class Adam(Optimizer):
    """Adam, as Keras's (epsilon outside the square root, bias-corrected rate), optionally AMSGrad.

    Args:
        learning_rate: a float >= 0 or a schedule from `fc.optimizers.schedules`.
        beta_1: decay of the first-moment estimate, in [0, 1].
        beta_2: decay of the second-moment estimate, in [0, 1].
        epsilon: added to the root of the second moment, >= 0.
        amsgrad: use the maximum of past second moments (AMSGrad).
        name: the optimizer's name.
        **kwargs: the base optimizer's arguments: `weight_decay`, `clipnorm`, `clipvalue`,
            `global_clipnorm` (see `fc.optimizers.Optimizer`).
    """

    core_name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, name="adam",
                 **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self._hyper = {"beta_1": check_number("Adam", "beta_1", beta_1, 0.0, 1.0),
                       "beta_2": check_number("Adam", "beta_2", beta_2, 0.0, 1.0),
                       "epsilon": check_number("Adam", "epsilon", epsilon, 0.0),
                       "amsgrad": bool(amsgrad)}
