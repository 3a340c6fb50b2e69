"""Lowering: a graph of layer calls becomes the core's plan (slots, ops, one parameter buffer)."""
import numpy as np

from fitcore import _core
from fitcore.layers.input_layer import InputLayer
from fitcore.models import weight_homes

_ALIGN = 16  # floats: every weight starts on a 64-byte boundary


def trace(inputs, outputs):
    """Every tensor the outputs depend on, each after the tensors it is computed from."""
    order, seen = [], set()

    def visit(tensor):
        stack = [(tensor, False)]
        while stack:  # iterative, so deep models do not hit Python's recursion limit
            t, expanded = stack.pop()
            if id(t) in seen:
                continue
            if expanded or not t.inputs:
                seen.add(id(t))
                order.append(t)
            else:
                stack.append((t, True))
                stack.extend((i, False) for i in reversed(t.inputs) if id(i) not in seen)

    for out in outputs:
        visit(out)
    declared = {id(t) for t in inputs}
    for t in order:
        if isinstance(t.layer, InputLayer) and id(t) not in declared:
            raise ValueError(f"The outputs depend on input '{t.layer.name}', which is not among the model's inputs")
    return order


def layers_in_order(tensors):
    """Each layer once, in the order its first call runs."""
    layers, seen = [], set()
    for t in tensors:
        if id(t.layer) not in seen:
            seen.add(id(t.layer))
            layers.append(t.layer)
    return layers


def _padded(size):
    return -(-size // _ALIGN) * _ALIGN


def layout(trainable, frozen):
    """Offsets in the flat buffer: trainable weights first, so the optimizer sweeps one range."""
    offsets, cursor = {}, 0
    for w in trainable + frozen:
        offsets[id(w)] = cursor
        cursor += _padded(w.size)
    return offsets, sum(_padded(w.size) for w in trainable), cursor


def _penalty(weight, trainable_ids):
    """(l1, l2) for the core: as Keras, only trainable weights are regularized."""
    if weight.regularizer is None or id(weight) not in trainable_ids:
        return 0.0, 0.0
    return weight.regularizer.l1, weight.regularizer.l2


def lower(inputs, outputs, layers, calls=None):
    """Builds the core Network, which becomes the home of every weight (current values copied in).

    Args:
        inputs, outputs: the model's input and output tensors.
        layers: its layers, each once, in call order.
        calls: the model's weight_homes.ModelCalls; None for a throwaway inference plan (layer(x)
            on arrays), whose buffer gets a copy of the current values and becomes no weight's home.

    Returns:
        (network, weight_homes.Bindings, or None for a throwaway plan).
    """
    tensors = trace(inputs, outputs)
    slot = {id(t): i for i, t in enumerate(tensors)}
    trainable = [w for layer in layers for w in layer.trainable_weights]
    frozen = [w for layer in layers for w in layer.non_trainable_weights]
    offsets, num_trainable, num_params = layout(trainable, frozen)
    trainable_ids = {id(w) for w in trainable}
    ops = []
    for t in tensors:
        if isinstance(t.layer, InputLayer):
            continue
        numbers, strings = t.layer.op_config()
        params = [_core.ParamSpec(offsets[id(w)], w.size, *_penalty(w, trainable_ids)) for w in t.layer._weights]
        ops.append(_core.OpSpec(t.layer.kind, [slot[id(i)] for i in t.inputs], slot[id(t)],
                                _core.Config(numbers, strings), params))
    spec = _core.GraphSpec([list(t.shape[1:]) for t in tensors], [slot[id(t)] for t in inputs],
                           [slot[id(t)] for t in outputs], ops, num_params, num_trainable)
    network = _core.Network(spec)
    weights = trainable + frozen
    if calls is None:
        for w in weights:
            network.write(offsets[id(w)], w.numpy().reshape(-1))
        return network, None
    return network, weight_homes.bind(network, calls, offsets, weights)


def run_inference(inputs, outputs, arrays):
    """Outputs (float32 arrays) of the graph from `inputs` to `outputs` on `arrays` (one per input,
    batch axis first), in inference mode, through a throwaway plan that leaves the weights' home alone."""
    layers = layers_in_order(trace(inputs, outputs))
    network, _ = lower(inputs, outputs, layers)
    rows = arrays[0].shape[0]
    if any(a.shape[0] != rows for a in arrays):
        raise ValueError(f"The input arrays must have the same number of samples, got {[a.shape[0] for a in arrays]}")
    losses = [_core.OutputLossSpec("mean_squared_error", _core.Config(), 1.0, int(np.prod(t.shape[1:])))
              for t in outputs]
    core = _core.Trainer(network, losses, _core.OptimizerSpec("sgd", _core.Config({"learning_rate": 0.0}, {})), 0)
    results = [np.empty((rows,) + tuple(t.shape[1:]), np.float32) for t in outputs]
    if rows:
        core.predict([np.ascontiguousarray(a, dtype=np.float32) for a in arrays], rows, results)
    return results
