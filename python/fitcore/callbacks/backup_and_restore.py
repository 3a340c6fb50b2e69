"""BackupAndRestore: an interrupted fit, run again with the same callback, resumes after the last
finished epoch and ends with the same weights and History as an uninterrupted run.

At the start of fit and at each epoch end one file, `backup_dir/backup.npz`, is written atomically (temporary name, then
rename) with the weights, the optimizer's state and step count, the learning rate, the epoch, the
History so far and the core's random seed. The core draws shuffles from (seed, epoch) and dropout
from (seed, step), so restoring the step count under the same seed replays the same run.

In the same process the model keeps its core trainer, hence its seed. In a new process, call
fc.utils.set_random_seed(s) with the same s before building the model, so the core gets the same
seed; a different seed still resumes correctly but later shuffles differ (a warning says so).
The backup is deleted when fit finishes (also when it stops early), as Keras does.
"""
import glob
import json
import os
import warnings

import numpy as np

from fitcore.callbacks.callback import Callback
from fitcore.distribution import is_chief
from fitcore.saving.weights import atomic_write, read_npz, temporary_prefix

_FILE = "backup.npz"


class BackupAndRestore(Callback):
    """Backs up the training state at every epoch end, so an interrupted fit resumes where it stopped.

    The backup holds the weights, the optimizer's state, the epoch, the History so far and the
    core's random state; a new `fit` with the same callback restores it and continues from the
    next epoch, with the same result as an uninterrupted run. The backup is deleted when training
    ends normally (unless `delete_checkpoint=False`).

    Args:
        backup_dir: the directory the backup file is written to (created if needed).
        save_freq: "epoch" (the only choice: backups at epoch ends).
        delete_checkpoint: delete the backup when fit finishes.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not os.fspath(backup_dir):
            raise ValueError(f"BackupAndRestore: `backup_dir` must be a directory path, got {backup_dir!r}")
        if save_freq != "epoch":
            raise ValueError(f"BackupAndRestore: `save_freq` must be 'epoch' (backups at epoch ends), got {save_freq!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = bool(delete_checkpoint)

    @property
    def backup_path(self):
        """The backup file's path."""
        return os.path.join(self.backup_dir, _FILE)

    # Runs after History's on_train_begin (CallbackList puts it there), so it can refill model.history.
    def on_train_begin(self, logs=None):
        if not os.path.exists(self.backup_path):
            # A backup of the starting point too: a crash inside the first epoch then restarts
            # from the initial weights rather than from half-trained ones.
            self._write(None)
            return
        core = self.model._core
        current_state = core.optimizer_state()
        weights, state, meta = self._read(current_state)
        if [name for name, _ in current_state] != meta["state_names"]:
            raise ValueError(f"BackupAndRestore: the backup in {self.backup_dir!r} was made with another optimizer "
                             f"or model; delete it to start afresh")
        self.model.set_weights(weights)  # checks shapes against the model before writing
        for (_, view), saved in zip(current_state, state):
            view[...] = saved
        core.iterations = meta["iterations"]
        if getattr(self.model.optimizer, "_schedule", None) is None:  # a schedule follows the iterations
            self.model.optimizer.learning_rate = meta["learning_rate"]
        if meta["seed"] != core.seed:
            warnings.warn("BackupAndRestore: resuming under another core seed than the interrupted run's; results "
                          "will differ from an uninterrupted run. Call fc.utils.set_random_seed(...) with the same "
                          "seed before building the model to resume identically.", stacklevel=2)
        if meta["epoch"] is None:  # interrupted before any epoch finished: start as before
            return
        self.model._initial_epoch = meta["epoch"] + 1
        history, restored = getattr(self.model, "history", None), meta["history"]
        if history is not None and hasattr(history, "key_epochs") and restored is not None:
            history.history, history.epoch, history.key_epochs = restored.history, restored.epoch, restored.key_epochs

    def _read(self, current_state):
        """(weights, optimizer state, meta) from the backup, every entry's shape checked against this model
        and optimizer before it is read (see fitcore.saving.weights.read_npz)."""
        shapes = {f"w{i:04d}": w.shape for i, w in enumerate(self.model.weights)}
        shapes.update({f"o{i:04d}": view.shape for i, (_, view) in enumerate(current_state)})
        try:
            data = read_npz(self.backup_path, shapes, texts=("meta",), what="BackupAndRestore")
            meta = json.loads(str(data["meta"]))
            # Every field checked here, before anything is restored: the model is never half-restored.
            types = {"epoch": (int, type(None)), "iterations": int, "seed": int, "learning_rate": (int, float),
                     "state_names": list, "history": dict}
            if not isinstance(meta, dict) or any(k not in meta or isinstance(meta[k], bool)
                                                 or not isinstance(meta[k], t) for k, t in types.items()):
                raise ValueError(f"its metadata must hold {list(types)} of the right types")
            from fitcore.callbacks.history import History

            meta["history"] = History.from_dict(meta["history"]) if meta["history"] else None
        except (ValueError, TypeError, AttributeError) as error:
            raise ValueError(f"BackupAndRestore: the backup in {self.backup_dir!r} cannot be used ({error}); it was "
                             f"made with another optimizer or model, or is damaged: delete it to start afresh") from None
        weights = [data[f"w{i:04d}"] for i in range(len(self.model.weights))]
        state = [data[f"o{i:04d}"] for i in range(len(current_state))]
        return weights, state, meta

    def on_epoch_end(self, epoch, logs=None):
        self._write(epoch)

    def _write(self, epoch):
        """Writes the backup after `epoch` (None: before the first epoch of this fit)."""
        core = self.model._core
        history = getattr(self.model, "history", None)  # History runs before this callback
        state = core.optimizer_state()
        meta = {"epoch": None if epoch is None else int(epoch), "iterations": int(core.iterations), "seed": int(core.seed),
                "learning_rate": float(self.model.optimizer.learning_rate),
                "num_weights": len(self.model.weights), "num_state": len(state),
                "state_names": [name for name, _ in state],
                "history": history.to_dict() if history is not None and hasattr(history, "to_dict") else {}}
        arrays = {f"w{i:04d}": w for i, w in enumerate(self.model.get_weights())}
        arrays.update({f"o{i:04d}": np.array(view, copy=True) for i, (_, view) in enumerate(state)})
        arrays["meta"] = np.array(json.dumps(meta))
        os.makedirs(self.backup_dir, exist_ok=True)
        atomic_write(self.backup_path, lambda f: np.savez(f, **arrays))

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and is_chief() and os.path.exists(self.backup_path):
            os.unlink(self.backup_path)
            # A run killed while writing its backup left a temporary file of ours: it goes too.
            for leftover in glob.glob(os.path.join(glob.escape(self.backup_dir), temporary_prefix(_FILE) + "*")):
                os.unlink(leftover)
            try:
                os.rmdir(self.backup_dir)  # only when empty: the directory may hold the user's files
            except OSError:
                pass
