"""Array helpers for labels, as keras.utils."""
import numbers

import numpy as np


def to_categorical(x, num_classes=None, dtype="float64"):
    """Converts a class vector (integers) to a one-hot class matrix, as `keras.utils.to_categorical`.

    Args:
        x: array-like of class ids in [0, num_classes) (integers, or floats holding integers). A
            trailing axis of size 1, e.g. labels of shape (n, 1), is dropped first, as Keras does.
        num_classes: the number of classes; None means max(x) + 1.
        dtype: the result's dtype (Keras 3 returns float64; tf.keras's `dtype` argument is accepted).

    Returns:
        A numpy array of shape x.shape + (num_classes,) (less the dropped axis of size 1), with 1 at
        each label's class and 0 elsewhere.
    """
    values = np.asarray(x)
    if values.dtype == object or not (np.issubdtype(values.dtype, np.integer) or np.issubdtype(
            values.dtype, np.floating) or values.dtype == np.bool_):
        raise TypeError(f"to_categorical: `x` must hold integer class ids, got an array of dtype {values.dtype}")
    if values.size and np.issubdtype(values.dtype, np.floating) and (
            not np.all(np.isfinite(values)) or np.any(values != np.floor(values))):
        bad = float(values[~np.isfinite(values) | (values != np.floor(values))].flat[0])
        raise ValueError(f"to_categorical: `x` must hold integer class ids, got {bad!r}")
    shape = values.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = values.reshape(-1).astype(np.int64)
    if num_classes is None or num_classes == 0:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    elif isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 0:
        raise ValueError(f"to_categorical: `num_classes` must be a positive int or None, got {num_classes!r}")
    num_classes = int(num_classes)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = int(labels[(labels < 0) | (labels >= num_classes)][0])
        raise ValueError(f"to_categorical: `x` holds class id {bad}, outside [0, num_classes={num_classes})")
    categorical = np.zeros((labels.size, num_classes), dtype=dtype)
    categorical[np.arange(labels.size), labels] = 1
    return categorical.reshape(tuple(shape) + (num_classes,))
