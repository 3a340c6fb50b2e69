from fitcore.layers.layer import Layer, _shown


class Permute(Layer):
    """Permutes the axes of the input according to a given pattern (the batch axis stays first).

    Args:
        dims: a tuple of ints, the permutation of the per-sample axes counted from 1, e.g. (2, 1)
            swaps the first and second per-sample axes.
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`).

    Returns:
        Called on a tensor, the tensor with its axes permuted.
    """

    kind = "permute"

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dims, (list, tuple)):
            raise TypeError(f"Permute: `dims` must be a tuple of ints, got {dims!r}")
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` "
                             f"must be consecutive and start from 1. Received dims={dims}")
        self.dims = tuple(int(d) for d in dims)

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list) or len(input_shape) != len(self.dims):
            raise ValueError(f"{self.name}: Permute(dims={self.dims}) needs inputs with {len(self.dims)} per-sample "
                             f"axes, got {_shown(input_shape)}")
        return tuple(input_shape[d - 1] for d in self.dims)

    def op_config(self):
        return {f"dim_{a}": float(d) for a, d in enumerate(self.dims)}, {}

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}
