"""PyDataset (alias Sequence): a Keras-style dataset of batches, for fit / evaluate / predict."""


class PyDataset:
    """A dataset of batches, as Keras's PyDataset (alias Sequence).

    Subclass it and implement `__len__` (the number of batches) and `__getitem__(index)` returning
    batch `index` as (x,), (x, y) or (x, y, sample_weight). `on_epoch_begin` / `on_epoch_end` run
    before / after every training epoch. fit visits the batches in a new shuffled order each pass
    when shuffle=True; with steps_per_epoch beyond its length it starts again from its first batch
    (reshuffled), so every epoch has its steps.

    Args:
        workers: accepted for Keras compatibility; fitcore reads one batch at a time, in the
            calling thread.
        use_multiprocessing: accepted for Keras compatibility.
        max_queue_size: accepted for Keras compatibility.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__ (the number of batches)")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index) returning a batch")

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass

    @property
    def num_batches(self):
        """The number of batches (`len(self)`)."""
        return len(self)


Sequence = PyDataset
