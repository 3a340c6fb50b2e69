"""Keras's functional forms of the merge layers: `fc.layers.add([a, b])` is `fc.layers.Add()([a, b])`."""
from fitcore.layers.add import Add
from fitcore.layers.concatenate import Concatenate
from fitcore.layers.dot import Dot
from fitcore.layers.elementwise import Average, Maximum, Minimum, Multiply, Subtract


def concatenate(inputs, axis=-1, **kwargs):
    """Functional interface to the `Concatenate` layer.

    Args:
        inputs: a list of tensors.
        axis: the concatenation axis (the batch axis is 0; -1, the default, is the last).
        **kwargs: standard layer arguments (`name`, ...).

    Returns:
        A tensor, the concatenation of the inputs along `axis`.
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs, **kwargs):
    """Functional interface to the `Add` layer.

    Args:
        inputs: a list of tensors of one shape.
        **kwargs: standard layer arguments (`name`, ...).

    Returns:
        A tensor, the sum of the inputs.
    """
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional interface to the `Subtract` layer.

    Args:
        inputs: a list of two tensors of one shape.
        **kwargs: standard layer arguments (`name`, ...).

    Returns:
        A tensor, `inputs[0] - inputs[1]`.
    """
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional interface to the `Multiply` layer.

    Args:
        inputs: a list of tensors of one shape.
        **kwargs: standard layer arguments (`name`, ...).

    Returns:
        A tensor, the elementwise product of the inputs.
    """
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional interface to the `Average` layer.

    Args:
        inputs: a list of tensors of one shape.
        **kwargs: standard layer arguments (`name`, ...).

    Returns:
        A tensor, the elementwise average of the inputs.
    """
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional interface to the `Maximum` layer.

    Args:
        inputs: a list of tensors of one shape.
        **kwargs: standard layer arguments (`name`, ...).

    Returns:
        A tensor, the elementwise maximum of the inputs.
    """
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional interface to the `Minimum` layer.

    Args:
        inputs: a list of tensors of one shape.
        **kwargs: standard layer arguments (`name`, ...).

    Returns:
        A tensor, the elementwise minimum of the inputs.
    """
    return Minimum(**kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """Functional interface to the `Dot` layer.

    Args:
        inputs: a list of two tensors.
        axes: an int or a pair of ints, the axes to take the dot product along (batch axis 0).
        **kwargs: `normalize` and standard layer arguments (`name`, ...).

    Returns:
        A tensor, the dot product of the samples of the inputs.
    """
    return Dot(axes=axes, **kwargs)(inputs)
