"""A layer's weights have one home.

Each lowered model runs on its own flat parameter buffer (the core's fast path). A weight used by
several models (an encoder inside an autoencoder, a GAN's discriminator) lives in exactly one of
those buffers at a time, its *home*: `Weight.value`, `numpy()` and `assign()` read and write there,
so `get_weights`, `set_weights` and `save` of every model see the current values. The other
models hold copies in their own buffers, refreshed before they run when the home has changed
since their last copy (the core counts writes to each buffer, so an unchanged home costs one
comparison). A model takes the homes of all its weights when it is built and whenever it trains,
so its steps never write a copy that another model would not see; optimizer state stays in each
model's own core trainer. A home whose model is training is never taken: building a model then
only copies, and training one is a clear RuntimeError (two fits sharing weights at once would
train one set of weights from two places).
"""
import threading

import numpy as np

# Guards every weight's home and every model's record of its copies. Held only at call boundaries
# (a model starting fit, predict, ...), never during steps.
_homes_lock = threading.RLock()
# Counts moves of any weight's home: a model whose weights were all at home at the current count
# has nothing to refresh (the common case of a model sharing nothing costs one comparison).
_moves = [0]


class ModelCalls:
    """Which thread trains a model (if any), and how deeply each thread is inside its calls.

    Args:
        name: the model's name, for error messages.
    """

    def __init__(self, name):
        self.name = name
        self.training_thread = None  # threading.get_ident() of the thread inside fit/train_on_batch
        self.training_call = None    # "fit" or "train_on_batch"
        self.depth = {}              # thread ident -> nested calls on this model


class ParamBuffer:
    """A lowered model's flat parameter buffer, as a home for weights.

    Args:
        network: the core Network whose `params` this is.
        calls: the owning model's ModelCalls (is it training, and in which thread).
    """

    def __init__(self, network, calls):
        self.network = network
        self.calls = calls

    def view(self, offset, weight):
        """A writable numpy view of `weight`'s values at `offset` in this buffer."""
        return self.network.params[offset:offset + weight.size].reshape(weight.shape)


class Bindings:
    """Where each of one model's weights sits in that model's buffer, and which state of each
    weight's home the copy there was taken from.

    Args:
        buffer: the model's ParamBuffer.
        offsets: {id(weight): offset in floats} for every weight of the model.
        weights: the weights, each once.
    """

    def __init__(self, buffer, offsets, weights):
        self.buffer = buffer
        self.offsets = offsets
        self.weights = weights
        self._copied = {}  # id(weight) -> (home buffer, its generation) the local copy was taken from
        self._all_home_at = None  # the _moves count at which every weight was homed here

    def offset(self, weight):
        """The weight's offset (in floats) in this model's buffer."""
        return self.offsets[id(weight)]

    def refresh(self):
        """Copies into this buffer every weight whose home (elsewhere) changed since the last copy."""
        if self._all_home_at == _moves[0]:
            return
        with _homes_lock:
            self._refresh(self.weights)

    def take_homes(self, training):
        """Makes this buffer the home of every weight of the model, copying current values in.

        Args:
            training: True when the model is about to train (a home held by another training model
                is then an error); False at lowering (such weights are only copied).

        Raises:
            RuntimeError: `training` and another model sharing a weight is training now.
        """
        with _homes_lock:
            if training:
                for w in self.weights:
                    home = w._home
                    if home is not None and home[0] is not self.buffer and _training(home[0]):
                        raise RuntimeError(
                            f"{self.buffer.calls.name}: weight '{w.name}' is shared with model "
                            f"'{home[0].calls.name}', which is training now; models sharing layers train "
                            f"one at a time")
            self._refresh(self.weights)
            for w in self.weights:
                home = w._home
                if home is not None and (home[0] is self.buffer or _training(home[0])):
                    continue  # here already, or a running fit keeps what it writes
                w._home = (self.buffer, self.offsets[id(w)])
                w._initial = None  # the buffer holds the value from now on
                self._copied.pop(id(w), None)
                _moves[0] += 1
            if all(w._home[0] is self.buffer for w in self.weights):
                self._all_home_at = _moves[0]

    def _refresh(self, weights):
        """Brings this buffer's copies of `weights` up to date: one locked copy per home buffer, so
        the weights coming from one model come from one finished step of it."""
        by_source = {}
        for w in weights:
            home = w._home
            offset = self.offsets[id(w)]
            if home is None:  # never built: the weight's own array is its value
                self.buffer.network.write(offset, w._initial.reshape(-1))
            elif home[0] is not self.buffer:
                by_source.setdefault(id(home[0]), (home[0], []))[1].append(w)
        for source, stale in by_source.values():
            generation = source.network.generation  # read before the copy: a later write copies again
            stale = [w for w in stale if self._copied.get(id(w)) != (source, generation)]
            if not stale:
                continue
            self.buffer.network.copy_from(source.network, [w._home[1] for w in stale],
                                          [self.offsets[id(w)] for w in stale], [w.size for w in stale])
            for w in stale:
                self._copied[id(w)] = (source, generation)


def _training(buffer):
    return buffer.calls.training_thread is not None


def bind(network, calls, offsets, weights):
    """The Bindings of a freshly lowered network, which becomes the home of its weights."""
    bindings = Bindings(ParamBuffer(network, calls), offsets, weights)
    bindings.take_homes(training=False)
    return bindings


def read(weight):
    """A copy of the weight's current value, from its home."""
    home = weight._home
    if home is None:
        return weight._initial.copy()
    out = np.empty(weight.shape, np.float32)
    home[0].network.read(home[1], out.reshape(-1))
    return out


def write(weight, value):
    """Writes `value` (broadcast to the weight's shape) to the weight's home."""
    array = np.ascontiguousarray(np.broadcast_to(np.asarray(value, dtype=np.float32), weight.shape))
    home = weight._home
    if home is None:
        weight._initial[...] = array
    else:
        home[0].network.write(home[1], array.reshape(-1))
