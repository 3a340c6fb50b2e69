"""Puts the user's x / y / sample_weight / class_weight into the model's order: one float32
array per model input and per output, validated against the model's shapes."""
import numbers

import numpy as np

from fitcore.data.validation import as_class_ids, as_float32, as_numeric_array, check_finite, check_real


def _by_position_or_name(value, names, arg, kind):
    """A structure (single array, list/tuple by position, dict by name) as a list in `names` order."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        missing = [n for n in names if n not in value]
        if unknown or missing:
            raise ValueError(f"`{arg}` is a dict keyed by {kind} name; expected keys {names}"
                             + (f", unknown: {unknown}" if unknown else "") + (f", missing: {missing}" if missing else ""))
        return [value[n] for n in names]
    # Arrays by position; a list of numbers or of lists of numbers is one nested array.
    if isinstance(value, (list, tuple)) and len(value) > 0 and not isinstance(value[0], (numbers.Number, list)):
        if len(value) != len(names):
            raise ValueError(f"`{arg}` has {len(value)} arrays but the model has {len(names)} {kind}s {names}")
        return list(value)
    if len(names) != 1:
        raise ValueError(f"The model has {len(names)} {kind}s {names}: pass `{arg}` as a list or a dict of arrays")
    return [value]


def _fit_shape(array, expected, arg, name):
    """Accepts (n, *expected), or (n,) for an expected (1,)."""
    got = tuple(array.shape[1:])
    if got == tuple(expected):
        return array
    if got == () and tuple(expected) == (1,):
        return array.reshape(-1, 1)
    raise ValueError(f"`{arg}` for input '{name}' must have shape (n, {', '.join(map(str, expected))}), "
                     f"got {array.shape}")


def standardize_inputs(model, x, arg="x"):
    """The inputs as one float32 array per model input, checked against the model's shapes.

    Args:
        model: the model.
        x: an array, a list/tuple by position or a dict by input name.
        arg: the argument's name, for errors.

    Returns:
        A list of C-contiguous float32 arrays in the model's input order.
    """
    arrays = _by_position_or_name(x, model.input_names, arg, "input")
    checks = getattr(model, "input_value_checks", {})
    out = []
    for name, shape, tensor, value in zip(model.input_names, model.input_shapes, model.inputs, arrays):
        label = arg if len(arrays) == 1 else f"{arg}['{name}']"
        array = _fit_shape(as_numeric_array(value, label), shape, label, name)
        for check in checks.get(tensor.layer.name, ()):  # e.g. Embedding ids in range
            check(array, label)
        out.append(as_float32(array))
    return out


def standardize_targets(model, y, losses, arg="y"):
    """Per output: the targets its loss reads, checked; class ids (sparse losses) as int32/int64 so
    every id is exact, anything else as float32. Zero-copy when already in that form.

    Args:
        model: the model (output names and shapes).
        y: an array, a list by output position or a dict by output name.
        losses: the compiled Loss per output.
        arg: the argument's name for messages.

    Returns:
        A list with one array per output.
    """
    arrays = _by_position_or_name(y, model.output_names, arg, "output")
    out = []
    for name, shape, loss, value in zip(model.output_names, model.output_shapes, losses, arrays):
        label = arg if len(arrays) == 1 else f"{arg}['{name}']"
        array = loss.check_targets(as_numeric_array(value, label), shape, label, name)
        out.append(as_class_ids(array) if loss.sparse else as_float32(array))
    return out


def standardize_sample_weights(model, sample_weight, num_samples, arg="sample_weight"):
    """The sample weights per model output, checked.

    Args:
        model: the model.
        sample_weight: None, one array for every output, or a list/dict per output; (n,) or
            (n, timesteps) for temporal outputs.
        num_samples: n, for error messages.
        arg: the argument's name, for errors.

    Returns:
        Per output: None, or finite float32 weights of (n,) or (n, timesteps).
    """
    if sample_weight is None:
        return [None] * len(model.output_names)
    if isinstance(sample_weight, (dict, list, tuple)) and len(model.output_names) > 1:
        values = _by_position_or_name(sample_weight, model.output_names, arg, "output")
    else:
        values = [sample_weight] * len(model.output_names)
    out = []
    for name, shape, value in zip(model.output_names, model.output_shapes, values):
        if value is None:
            out.append(None)
            continue
        w = as_numeric_array(value, arg)
        per_sample = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        if w.ndim == 2 and w.shape[1] == 1:
            w = w[:, 0]
        if w.ndim > 1 and tuple(w.shape[1:]) != tuple(shape[:-1]):
            raise ValueError(f"`{arg}` must have shape ({num_samples},) or ({num_samples}, "
                             f"{', '.join(map(str, shape[:-1]))}) for output '{name}', got {w.shape}")
        if w.ndim > 2 or (w.ndim == 2 and per_sample == 1):
            raise ValueError(f"`{arg}` must have shape ({num_samples},) for output '{name}', got {w.shape}")
        check_finite(w, arg)
        out.append(as_float32(w))
    return out


def check_class_weight(class_weight, model, arg="class_weight"):
    """{class_index: finite weight} for a single-output model, or an error naming `arg`.

    Args:
        class_weight: the user's argument.
        model: the model (class_weight needs one output).
        arg: the argument's name, for errors.
    """
    if not isinstance(class_weight, dict):
        raise TypeError(f"`{arg}` must be a dict {{class_index: weight}}, got {type(class_weight).__name__}")
    if len(model.output_names) != 1:
        raise ValueError(f"`{arg}` is not supported for models with several outputs "
                         f"({model.output_names}); use sample_weight per output")
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, numbers.Integral) or key < 0:
            raise ValueError(f"`{arg}` keys must be non-negative class indices, got {key!r}")
        check_real(arg, value, shown=f"`{arg}`[{key}]")


def class_weight_to_sample_weight(class_weight, targets, model, losses, arg="class_weight"):
    """Weights from `{class_index: weight}`, one per label; classes not listed weigh 1.

    Labels come from sparse integer targets, from a final dimension of 1, or from the argmax of
    one-hot targets (the last axis). Temporal targets `(n, T, 1)` or `(n, T, classes)` give one
    label, so one weight, per timestep, as Keras documents for sequence outputs.

    Args:
        class_weight: `{class_index: weight}`.
        targets: the standardized targets (one array per output; one output only).
        model: the model (class_weight needs a single output).
        losses: the compiled losses (a sparse loss reads its targets as labels).
        arg: the argument's name, for errors.

    Returns:
        A float32 array of shape (n,), or (n, T) for temporal targets.
    """
    check_class_weight(class_weight, model, arg)
    y = targets[0]
    labels = y[..., 0] if y.ndim > 1 and y.shape[-1] == 1 else y
    if not losses[0].sparse and labels is y and y.ndim > 1:
        labels = np.argmax(y, axis=-1)  # one-hot (or probabilities): the most likely class
    if labels.ndim > 2:
        raise ValueError(f"`{arg}` is supported for targets of shape (n,), (n, classes), (n, T, 1) or (n, T, classes) "
                         f"(a weight per sample or per timestep), got y of shape {y.shape}")
    labels = np.round(labels).astype(np.int64)
    weights = np.ones(labels.shape, np.float32)
    for key, value in class_weight.items():
        weights[labels == key] = value
    return weights


def apply_class_weight(class_weight, targets, weights, model, losses):
    """The per-output sample weights with class_weight multiplied in (training data only, as Keras).

    Args:
        class_weight: `{class_index: weight}`.
        targets: the standardized targets.
        weights: the per-output sample weights (None where not given): (n,) or (n, T).
        model: the model.
        losses: the compiled losses.

    Returns:
        The per-output weights: float32 arrays of (n,) or, when either side is per timestep, (n, T).
    """
    from_classes = class_weight_to_sample_weight(class_weight, targets, model, losses)
    out = []
    for w in weights:
        if w is None:
            out.append(from_classes)
            continue
        a, b = (w, from_classes) if w.ndim >= from_classes.ndim else (from_classes, w)
        out.append((a * b.reshape(b.shape + (1,) * (a.ndim - b.ndim))).astype(np.float32))
    return out
