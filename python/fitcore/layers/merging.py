"""Layers that merge several inputs: the shared call-time checks."""
from fitcore.layers.layer import Layer, _shown  # noqa: F401 (_shown: shared by the merge layers)


class Merge(Layer):
    """Called on a list of tensors; compute_output_shape gets their per-sample shapes."""

    def compute_output_shape(self, input_shapes):
        if not isinstance(input_shapes, list) or not input_shapes:
            raise ValueError(f"{self.name}: a {type(self).__name__} layer is called on a list of tensors, "
                             f"got a single tensor of shape {_shown(input_shapes)}")
        return self._merged_shape([tuple(s) for s in input_shapes])
