"""The interface every input kind implements."""


class DataAdapter:
    """Turns one kind of user input into what the core consumes.

    In-memory adapters expose `arrays` (inputs, targets, weights: lists of float32 C-contiguous
    arrays, one per model input / output) so the core batches and shuffles them itself;
    streaming adapters yield the same triple batch by batch from `batches()`.
    """

    #: whole arrays the core can batch itself, or None for a stream
    arrays = None

    @property
    def num_samples(self):
        """Samples per pass, or None when unknown (a generator)."""
        return None

    def num_batches(self, batch_size):
        """Batches per pass, or None when unknown."""
        return None

    def batches(self, batch_size, shuffle, epoch):
        """Yields (inputs, targets, weights) per batch."""
        raise NotImplementedError
