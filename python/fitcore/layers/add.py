from fitcore.layers.merging import Merge, _shown


class Add(Merge):
    """Adds a list of inputs of one shape elementwise.

    Args:
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`; on a Sequential's first
            layer also `input_shape` / `input_dim`).

    Returns:
        Called on a list of tensors, their sum."""

    kind = "add"

    def _merged_shape(self, shapes):
        if any(s != shapes[0] for s in shapes):
            raise ValueError(f"{self.name}: Add needs inputs of one shape, got "
                             f"{', '.join(_shown(s) for s in shapes)}")
        return shapes[0]
