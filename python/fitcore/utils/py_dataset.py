"""PyDataset (alias Sequence): a Keras-style dataset of batches, for fit / evaluate / predict."""


class PyDataset:
    """Subclass it and implement `__len__` (the number of batches) and `__getitem__(index)` returning
    batch `index` as (x,), (x, y) or (x, y, sample_weight). `on_epoch_begin` / `on_epoch_end` run
    before / after every training epoch.
    fit visits the batches in a new shuffled order each epoch when shuffle=True. Keras's `workers`,
    `use_multiprocessing` and `max_queue_size` are accepted; fitcore reads one batch at a time, in
    the calling thread."""

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
        return len(self)


Sequence = PyDataset
