import numpy as np

from fitcore import initializers, regularizers
from fitcore.data.validation import check_int, check_positive_int
from fitcore.layers.layer import Layer

_MAX_INPUT_DIM = 2**24  # ids travel as float32, exact up to here


class Embedding(Layer):
    """Turns integer ids into dense vectors: rows of the `embeddings` table.

    Args:
        input_dim: int, the vocabulary size (ids lie in [0, input_dim)).
        output_dim: int, the size of each vector.
        embeddings_initializer: initializer of the table (default "uniform").
        embeddings_regularizer: an fc.regularizers object or name, or None.
        mask_zero: only False (fitcore has no masking).
        **kwargs: standard layer arguments (`name`, `trainable`, `dtype`; on a Sequential's first
            layer also `input_shape` / `input_dim`).

    Returns:
        Called on ids of shape (batch, ...), the vectors of shape (batch, ..., output_dim)."""

    kind = "embedding"

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 mask_zero=False, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = check_int("input_dim", input_dim, low=1, high=_MAX_INPUT_DIM, owner="Embedding",
                                   why="2**24: ids are exact float32 in the core")
        self.output_dim = check_positive_int("output_dim", output_dim, owner="Embedding")
        if mask_zero:
            raise ValueError("Embedding: mask_zero=True is not supported (fitcore has no masking)")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer, "embeddings_regularizer")
        self.mask_zero = False

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer, regularizer=self.embeddings_regularizer)

    def check_ids(self, array, arg):
        """Checks that an input array holds valid ids for this table, before any step.

        Args:
            array: the array fed to this layer.
            arg: the argument's name for the error message.

        Returns:
            None; raises ValueError naming `arg` for non-integers or ids outside [0, input_dim)."""
        ids = np.trunc(array) if array.dtype.kind == "f" else array  # ids are cast to int, as Keras does
        bad = ~((ids >= 0) & (ids < self.input_dim))
        if np.any(bad):
            raise ValueError(f"`{arg}` feeds Embedding '{self.name}' and must hold integer ids in "
                             f"[0, {self.input_dim}); got e.g. {array[bad].flat[0].item()!r}")

    def op_config(self):
        return {"input_dim": float(self.input_dim)}, {}

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "mask_zero": self.mask_zero}
