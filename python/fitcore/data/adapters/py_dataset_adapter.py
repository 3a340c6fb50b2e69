"""Keras-style PyDataset / Sequence: `__len__` batches, `__getitem__(i)` → batch i, optional
`on_epoch_begin()` / `on_epoch_end()`. With shuffle, each pass visits the batches in a new seeded order."""
import numpy as np

from fitcore.data.adapters.data_adapter import DataAdapter


class PyDatasetAdapter(DataAdapter):
    """A Keras-style PyDataset / Sequence: batch i is `dataset[i]`, its hooks run around training epochs.

    Args:
        dataset: the user's PyDataset (anything with `__len__` and `__getitem__`).
    """

    makes_batches = True
    description = "PyDataset"

    def __init__(self, dataset):
        self.dataset = dataset

    def num_batches(self, batch_size):
        return len(self.dataset)

    def iterate(self, batch_size, shuffle, seed):
        n = len(self.dataset)
        order = np.random.default_rng(seed).permutation(n) if shuffle else range(n)
        for i in order:
            yield self.dataset[int(i)]

    def first_element(self):
        if len(self.dataset) == 0:
            raise StopIteration
        return self.dataset[0]

    def _call(self, name):
        hook = getattr(self.dataset, name, None)
        if callable(hook):
            hook()

    def on_epoch_begin(self):
        self._call("on_epoch_begin")

    def on_epoch_end(self):
        self._call("on_epoch_end")
