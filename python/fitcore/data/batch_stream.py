"""One element a generator or dataset yielded, unpacked as the SPEC says and checked like arrays
before it reaches the core."""
from fitcore.data.adapters.array_adapter import ArrayAdapter, StandardizedBatch
from fitcore.data.standardize import apply_class_weight


def unpack_element(element, num_inputs, where):
    """Splits a yielded element into x, y and sample_weight.

    Args:
        element: what the generator or dataset yielded.
        num_inputs: the model's number of inputs (a list of 2-3 arrays for one input is refused).
        where: the element's place, for error messages.

    Returns:
        `(x, y, sample_weight)`: a tuple of 1-3 is `(x,)`, `(x, y)`, `(x, y, sample_weight)`
        (missing ones None); anything else, a dict or a list included, is x alone.
    """
    if isinstance(element, tuple):
        if not 1 <= len(element) <= 3:
            raise ValueError(f"{where}: expected a tuple (x,), (x, y) or (x, y, sample_weight), "
                             f"got a tuple of length {len(element)}")
        return tuple(element) + (None,) * (3 - len(element))
    if isinstance(element, list) and num_inputs == 1 and len(element) in (2, 3):
        raise ValueError(f"{where}: got a list of {len(element)} items for a model with one input; a list is read "
                         f"as x alone (inputs by position): yield a tuple (x, y) or (x, y, sample_weight)")
    return element, None, None


def standardize_element(element, model, losses, where, class_weight=None, need_targets=True, allow_empty=False):
    """A yielded element as the core's arrays, checked against the model.

    Args:
        element: what the generator or dataset yielded (see `unpack_element`).
        model: the model whose inputs and outputs the arrays must fit.
        losses: the compiled losses (they check the targets), or None.
        where: the element's place ("the batch `x` yielded at step 3 of epoch 2"), prefixed to errors.
        class_weight: `{class_index: weight}` multiplied into the weights, or None.
        need_targets: False for predict: y and sample_weight are dropped.
        allow_empty: an element of no rows is fine (a data-parallel process's part of a small batch).

    Returns:
        `(inputs, targets, weights)`: lists of float32 arrays, one per model input / output
        (targets None for predict, a weight None where none was given).
    """
    if isinstance(element, StandardizedBatch):  # rows of arrays checked already (a Python metric's steps)
        return tuple(element)
    num_inputs = len(model.input_names) if model.built else 1
    x, y, sample_weight = unpack_element(element, num_inputs, where)
    if y is None and need_targets:
        raise ValueError(f"{where}: expected (x, y) or (x, y, sample_weight) with targets, got x alone")
    if not need_targets:
        y = sample_weight = None
    try:
        batch = ArrayAdapter.from_user_data(x, model, y=y, sample_weight=sample_weight, losses=losses,
                                            allow_empty=allow_empty)
        weights = batch.weights
        if class_weight is not None:
            weights = apply_class_weight(class_weight, batch.targets, weights, model, losses)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{where}: {error}") from None
    return batch.inputs, batch.targets, weights
