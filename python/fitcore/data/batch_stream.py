"""From a streaming adapter to the batches the core trains on: which pass each epoch reads,
the SPEC's unpacking of each yielded element, and its checks, all before it reaches the core."""
from fitcore.data.adapters.array_adapter import ArrayAdapter
from fitcore.data.standardize import apply_class_weight


def unpack_element(element, num_inputs, where):
    """(x, y, sample_weight) from a yielded element: a tuple of 1-3 is (x,), (x, y), (x, y, w);
    anything else, a dict or a list included, is x alone."""
    if isinstance(element, tuple):
        if not 1 <= len(element) <= 3:
            raise ValueError(f"{where}: expected a tuple (x,), (x, y) or (x, y, sample_weight), "
                             f"got a tuple of length {len(element)}")
        return tuple(element) + (None,) * (3 - len(element))
    if isinstance(element, list) and num_inputs == 1 and len(element) in (2, 3):
        raise ValueError(f"{where}: got a list of {len(element)} items for a model with one input; a list is read "
                         f"as x alone (inputs by position): yield a tuple (x, y) or (x, y, sample_weight)")
    return element, None, None


class BatchStream:
    """Batches of one streaming adapter across the epochs of one fit / evaluate / predict call.

    Training with steps_per_epoch=None reads one whole pass per epoch (re-iterables restart; a
    one-shot generator continues, and an epoch that gets nothing has run out). With a number of
    steps the pass continues from epoch to epoch, a new one starting when it ends at an epoch's
    start (or anywhere for lazily read arrays, which repeat like arrays). Validation restarts
    re-iterables at each run. `ran_out` tells whether the data ended before the steps asked for.
    """

    def __init__(self, adapter, model, losses, batch_size, shuffle, seed, steps=None, restart=True,
                 repeat=False, class_weight=None, need_targets=True, arg="x"):
        self.adapter, self.model, self.losses = adapter, model, losses
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.steps, self.restart, self.repeat = steps, restart, repeat and adapter.repeats
        self.class_weight, self.need_targets, self.arg = class_weight, need_targets, arg
        self.ran_out = False
        self._iterator = None
        self._pass = None  # (epoch the run of passes began at, pass within it), as the core counts

    def _new_pass(self, epoch, continuing=False):
        self._pass = (self._pass[0], self._pass[1] + 1) if continuing else (epoch, 0)
        self._iterator = iter(self.adapter.iterate(self.batch_size, self.shuffle, (self.seed, *self._pass)))

    def epoch(self, epoch):
        """Yields (inputs, targets, weights) for each step of `epoch` (0-based)."""
        self.ran_out = False
        fresh = self._iterator is None or (self.restart and self.adapter.reiterable)
        if fresh:
            self._new_pass(epoch)
        step = 0
        while self.steps is None or self.steps == -1 or step < self.steps:
            try:
                element = next(self._iterator)
            except StopIteration:
                if self.steps is not None and self.adapter.reiterable and not fresh and (step == 0 or self.repeat):
                    self._new_pass(epoch, continuing=True)
                    fresh = True
                    continue
                self.ran_out = step == 0 or self.steps is not None
                return
            fresh = False
            yield self.standardize(element, f"the batch `{self.arg}` yielded at step {step + 1} of epoch {epoch + 1}")
            step += 1

    def standardize(self, element, where):
        num_inputs = len(self.model.input_names) if self.model.built else 1
        x, y, sample_weight = unpack_element(element, num_inputs, where)
        if y is None and self.need_targets:
            raise ValueError(f"{where}: expected (x, y) or (x, y, sample_weight) with targets, got x alone")
        if not self.need_targets:
            y = sample_weight = None
        try:
            batch = ArrayAdapter.from_user_data(x, self.model, y=y, sample_weight=sample_weight, losses=self.losses)
            weights = batch.weights
            if self.class_weight is not None:
                weights = apply_class_weight(self.class_weight, batch.targets, weights, self.model, self.losses)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{where}: {error}") from None
        return batch.inputs, batch.targets, weights
