from fitcore.data.validation import check_axis
from fitcore.layers.merging import Merge, _shown


class Concatenate(Merge):
    """Concatenates a list of inputs along one axis.

    Args:
        axis: the concatenation axis, counting the batch axis as 0 (-1, the default, is the last);
            the inputs must match on every other axis.
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`; on a Sequential's first
            layer also `input_shape` / `input_dim`).

    Returns:
        Called on a list of tensors, their concatenation."""

    kind = "concatenate"

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_axis("axis", axis, owner="Concatenate")

    def _merged_shape(self, shapes):
        rank = len(shapes[0])
        axis = self.axis - 1 if self.axis > 0 else rank + self.axis  # per-sample axis
        if not 0 <= axis < rank or any(len(s) != rank for s in shapes):
            raise ValueError(f"{self.name}: cannot concatenate along axis={self.axis} inputs of shapes "
                             f"{', '.join(_shown(s) for s in shapes)}")
        for s in shapes:
            if s[:axis] + s[axis + 1:] != shapes[0][:axis] + shapes[0][axis + 1:]:
                raise ValueError(f"{self.name}: Concatenate(axis={self.axis}) needs inputs that match on every "
                                 f"other axis, got {', '.join(_shown(s) for s in shapes)}")
        return shapes[0][:axis] + (sum(s[axis] for s in shapes),) + shapes[0][axis + 1:]

    def op_config(self):
        return {"axis": float(self.axis)}, {}  # Keras's axis (batch is 0); the core resolves it per call

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
