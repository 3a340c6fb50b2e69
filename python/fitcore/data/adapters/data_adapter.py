"""The interface every input kind implements."""


class DataAdapter:
    """Turns one kind of user input into what the core consumes.

    In-memory adapters expose `arrays` (inputs, targets, weights: lists of float32 C-contiguous
    arrays, one per model input / output) so the core batches and shuffles them itself.
    Streaming adapters (`arrays` is None) yield the user's elements pass by pass from `iterate()`;
    trainers/epoch_iterator.py decides which pass each epoch reads, and data/batch_stream.py
    unpacks, checks and converts each element before it reaches the core.
    """

    #: whole arrays the core can batch itself, or None for a stream
    arrays = None
    #: a new pass can start over from the first batch (False: a one-shot generator)
    reiterable = True
    #: the data makes its own batches (generators, datasets): `batch_size`, `y`, `sample_weight` and
    #: `validation_split` do not apply
    makes_batches = False
    #: rows every process of a data-parallel run holds alike (lazily read arrays): `iterate` takes
    #: `part=(index, count)` and reads only that part of each batch. Otherwise each process's data
    #: is its own part of every batch.
    splits_by_row = False

    @property
    def num_samples(self):
        """Samples per pass, or None when unknown (a generator)."""
        return None

    def num_batches(self, batch_size):
        """Batches per pass.

        Args:
            batch_size: rows per batch (arrays), ignored by data that makes its own batches.

        Returns:
            An int, or None when unknown (a generator, an iterable without a length).
        """
        return None

    def iterate(self, batch_size, shuffle, seed):
        """One pass over the data.

        Args:
            batch_size: rows per batch (arrays), ignored by data that makes its own batches.
            shuffle: visit the pass in a seeded random order (arrays, PyDatasets).
            seed: `(seed, epoch, pass)`: the core's own permutation for the same arrays.

        Returns:
            An iterator over the elements, as the user's data yields them.
        """
        raise NotImplementedError

    def first_element(self):
        """The first element (to build a model that has no Input yet), without consuming it.

        Returns:
            The element; StopIteration when there is none.
        """
        raise NotImplementedError

    def on_epoch_begin(self):
        """Called before each training epoch (a PyDataset's hook)."""

    def on_epoch_end(self):
        """Called after each training epoch (a PyDataset's hook)."""
