"""Weights files: a numpy .npz of plain float arrays (never pickled), written atomically."""
import os
import tempfile

import numpy as np


def _npz_path(filepath):
    filepath = os.fspath(filepath)
    if not filepath.endswith(".npz"):
        raise ValueError(f"save_weights/load_weights: `filepath` must end in '.weights.npz' or '.npz', got {filepath!r}")
    return filepath


def atomic_write(filepath, write):
    """Calls write(file) on a temporary file beside `filepath`, then renames it into place:
    a crash mid-write never leaves a half-written file under the final name."""
    directory = os.path.dirname(os.path.abspath(filepath))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_weights(model, filepath):
    filepath = _npz_path(filepath)
    arrays = {f"w{i:04d}": w.numpy() for i, w in enumerate(model.weights)}
    atomic_write(filepath, lambda f: np.savez(f, **arrays))


def load_weights(model, filepath):
    filepath = _npz_path(filepath)
    try:
        with np.load(filepath, allow_pickle=False) as data:
            names = sorted(data.files)
            values = [data[n] for n in names]
    except (OSError, ValueError, EOFError) as error:
        raise ValueError(f"load_weights: {filepath!r} is not a readable weights file: {error}") from None
    model.set_weights(values)
