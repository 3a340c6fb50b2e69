"""Array helpers of keras.utils that programs call around fit()."""
import numpy as np


def to_categorical(x, num_classes=None):
    """One-hot encodes integer class labels, as keras.utils.to_categorical.

    Args:
        x: array-like of non-negative integer labels; a trailing axis of size 1 is dropped.
        num_classes: the number of classes; None means max(x) + 1.

    Returns:
        A float32 array of shape x.shape + (num_classes,) with a 1 at each label.
    """
    labels = np.asarray(x)
    if labels.dtype.kind not in "biu" and not (labels.dtype.kind == "f" and np.all(labels == np.round(labels))):
        raise ValueError(f"to_categorical: `x` must hold integer class labels, got dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.size and labels.min() < 0:
        raise ValueError(f"to_categorical: labels must be non-negative, got {int(labels.min())}")
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"to_categorical: `num_classes` must be a positive int, got {num_classes!r}")
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"to_categorical: label {int(labels.max())} is outside [0, {num_classes}) "
                         f"for `num_classes`={num_classes}")
    return np.eye(num_classes, dtype=np.float32)[labels]
