"""Re-iterables that yield batches: a list of batches, a tf.data.Dataset, any object whose
`__iter__` starts a new pass. Each pass (epoch, validation) starts again at the first batch."""
from fitcore.data.adapters.data_adapter import DataAdapter


class IterableAdapter(DataAdapter):
    """A re-iterable of batches (a list of batches, a tf.data.Dataset): each pass calls `iter()` again.

    Args:
        iterable: the user's dataset.
    """

    makes_batches = True
    description = "dataset"

    def __init__(self, iterable):
        self.iterable = iterable

    def num_batches(self, batch_size):
        try:
            return len(self.iterable)
        except TypeError:  # unknown or infinite (a tf.data.Dataset of unknown cardinality)
            return None

    def iterate(self, batch_size, shuffle, seed):
        return iter(self.iterable)

    def first_element(self):
        return next(iter(self.iterable))


class TorchDataLoaderAdapter(IterableAdapter):
    """A torch DataLoader. Its default collation turns each sample's tuple (x, y) into a list
    [x, y]; that list is the tuple the user's Dataset returned, so it unpacks as one."""

    description = "torch DataLoader"

    def iterate(self, batch_size, shuffle, seed):
        return (tuple(e) if isinstance(e, list) else e for e in self.iterable)

    def first_element(self):
        return next(iter(self.iterate(None, False, None)))
