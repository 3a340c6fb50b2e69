"""One-shot generators and iterators: each element is a batch; they cannot restart."""
from fitcore.data.adapters.data_adapter import DataAdapter


class GeneratorAdapter(DataAdapter):
    """A one-shot generator or iterator of batches: each pass continues where the last one stopped.

    Args:
        iterator: the user's generator.
    """

    reiterable = False
    makes_batches = True
    description = "generator"

    def __init__(self, iterator):
        self._iterator = iterator
        self._peeked = []

    def iterate(self, batch_size, shuffle, seed):
        # A plain loop, not `yield from`: dropping this wrapper must not close the user's generator,
        # the next epoch (or validation) continues where this one stopped.
        while self._peeked:
            yield self._peeked.pop(0)
        for element in self._iterator:
            yield element

    def first_element(self):
        if not self._peeked:
            self._peeked.append(next(self._iterator))
        return self._peeked[0]
