"""Elementwise merge layers (Keras's Subtract, Multiply, Average, Maximum, Minimum): inputs of one
shape, combined element by element in the core (cpp/src/ops/<kind>.cpp)."""
from fitcore.layers.merging import Merge, _shown


class _Elementwise(Merge):
    """Inputs of one shape in, that shape out; `arity` bounds how many inputs (None: two or more)."""

    arity = None

    def _merged_shape(self, shapes):
        kind = type(self).__name__
        if self.arity is not None and len(shapes) != self.arity:
            raise ValueError(f"{self.name}: a {kind} layer is called on exactly {self.arity} tensors, "
                             f"got {len(shapes)}")
        if len(shapes) < 2:
            raise ValueError(f"{self.name}: a {kind} layer is called on a list of at least 2 tensors, "
                             f"got {len(shapes)}")
        if any(s != shapes[0] for s in shapes):
            raise ValueError(f"{self.name}: {kind} needs inputs of one shape, got "
                             f"{', '.join(_shown(s) for s in shapes)}")
        return shapes[0]


class Subtract(_Elementwise):
    """Subtracts two inputs of one shape: `inputs[0] - inputs[1]`.

    Args:
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`).

    Returns:
        Called on a list of two tensors, their difference.
    """

    kind = "subtract"
    arity = 2


class Multiply(_Elementwise):
    """The elementwise product of a list of inputs of one shape.

    Args:
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`).

    Returns:
        Called on a list of tensors, their product.
    """

    kind = "multiply"


class Average(_Elementwise):
    """The elementwise mean of a list of inputs of one shape.

    Args:
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`).

    Returns:
        Called on a list of tensors, their average.
    """

    kind = "average"


class Maximum(_Elementwise):
    """The elementwise maximum of a list of inputs of one shape (on ties the gradient goes to the
    first input holding the maximum).

    Args:
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`).

    Returns:
        Called on a list of tensors, their maximum.
    """

    kind = "maximum"


class Minimum(_Elementwise):
    """The elementwise minimum of a list of inputs of one shape (on ties the gradient goes to the
    first input holding the minimum).

    Args:
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`).

    Returns:
        Called on a list of tensors, their minimum.
    """

    kind = "minimum"
