from fitcore.data.validation import check_real
from fitcore.layers.layer import Layer


class Rescaling(Layer):
    """Multiplies its input by `scale` and adds `offset`: `y = x * scale + offset`. Arithmetic with
    Python numbers on symbolic tensors (`x * 2`, `x + 1`, `-x`, `1 - x`, `x / 4`) lowers to it.

    Args:
        scale: a float.
        offset: a float (default 0.0).
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`).

    Returns:
        Called on a tensor, the rescaled tensor of the same shape.
    """

    kind = "rescaling"

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = check_real("scale", scale, owner="Rescaling")  # one number: fitcore has no per-channel scales
        self.offset = check_real("offset", offset, owner="Rescaling")

    def op_config(self):
        return {"scale": self.scale, "offset": self.offset}, {}

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
