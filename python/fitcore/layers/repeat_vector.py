from fitcore.layers.layer import Layer, _shown


class RepeatVector(Layer):
    """Repeats a vector input `n` times: (batch, features) -> (batch, n, features).

    Args:
        n: a positive int, the number of repetitions.
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`).

    Returns:
        Called on a 2-D tensor, the 3-D tensor of its repetitions.
    """

    kind = "repeat_vector"

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = n

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list) or len(input_shape) != 1:
            raise ValueError(f"{self.name}: RepeatVector takes 2-D input (batch, features), got "
                             f"{_shown(input_shape)}")
        return (self.n, input_shape[0])

    def op_config(self):
        return {"n": float(self.n)}, {}

    def get_config(self):
        return {**super().get_config(), "n": self.n}
