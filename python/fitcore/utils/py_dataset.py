"""PyDataset (alias Sequence): a Keras-style dataset of batches, for fit / evaluate / predict."""


class PyDataset:
    """A dataset of batches, as Keras's PyDataset (alias Sequence).

    Subclass it and implement `__len__` (the number of batches) and `__getitem__(index)` returning
    batch `index` as (x,), (x, y) or (x, y, sample_weight). `on_epoch_begin` / `on_epoch_end` run
    before / after every training epoch. fit visits the batches in a new shuffled order each pass
    when shuffle=True; with steps_per_epoch beyond its length it starts again from its first batch
    (reshuffled), so every epoch has its steps.

    In a data-parallel run (`fc.distribution.DataParallel`, launched with `mpiexec -n K`), each
    process has its own PyDataset, whose batch `index` is that process's part of the global batch
    `index`: `data_shard_id` and `num_processes` say which part. Every process's dataset must have
    the same length; shuffled orders are the same in every process.

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

    @property
    def data_shard_id(self):
        """This process's index in a data-parallel run (0 in a one-process run)."""
        from fitcore.distribution import active

        return active().data_shard_id

    @property
    def num_processes(self):
        """The number of processes of a data-parallel run (1 in a one-process run)."""
        from fitcore.distribution import active

        return active().num_processes


Sequence = PyDataset
