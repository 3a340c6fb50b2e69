"""ModelCheckpoint: saves the model or its weights after epochs (or every N batches)."""
import os

from fitcore.callbacks.monitor import MonitorCallback
from fitcore.data.validation import check_positive_int
from fitcore.saving.model_file import SUFFIXES as MODEL_SUFFIXES


class ModelCheckpoint(MonitorCallback):
    """Saves the model or its weights at the end of epochs (or every `save_freq` batches).

    `filepath` may hold `{epoch}` (1-based, as Keras), `{batch}` (with an int save_freq) and any
    log key, with format specs: "ckpt-{epoch:02d}-{val_loss:.2f}.weights.npz".

    save_weights_only=True writes model.save_weights(...) (the path must end in ".weights.npz");
    otherwise model.save(...) (".keras" or ".fitcore"). Every file is written under a temporary name and renamed, so a crash
    never leaves a half-written checkpoint under the final name.

    Args:
        filepath: where to save: a path, possibly a template of `{epoch}`, `{batch}` and log keys.
        monitor: the log key save_best_only watches (default "val_loss").
        verbose: 1 prints a line per save (or per epoch not saved, with save_best_only).
        save_best_only: save only when `monitor` improved on the best so far (strictly: a tie
            does not save); a missing monitored value saves anyway, as Keras.
        save_weights_only: save the weights (".weights.npz") rather than the whole model.
        mode: "min", "max" or "auto" (from the quantity's name or metric).
        save_freq: "epoch", or an int N: save every N training batches.
        initial_value_threshold: the value the first save must beat (with save_best_only).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"ModelCheckpoint: `filepath` must be a path (str), got {filepath!r}")
        self.filepath = os.fspath(filepath)
        if save_weights_only and not self.filepath.endswith(".weights.npz"):
            raise ValueError("ModelCheckpoint: with save_weights_only=True, `filepath` must end in '.weights.npz', "
                             f"got {self.filepath!r}")
        if not save_weights_only and not self.filepath.endswith(MODEL_SUFFIXES):
            raise ValueError(f"ModelCheckpoint: with save_weights_only=False (the whole model), `filepath` must end "
                             f"in {' or '.join(MODEL_SUFFIXES)}, got {self.filepath!r}")
        if save_freq != "epoch":
            check_positive_int("save_freq", save_freq, owner="ModelCheckpoint")
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.save_freq = save_freq
        self.initial_value_threshold = initial_value_threshold
        self._epoch = 0
        self._batches_since_save = 0

    def overrides_batch_hooks(self):
        """True only with an int `save_freq` (then fit calls the batch hook after every step)."""
        return self.save_freq != "epoch"  # only then does it need each step's hook

    def on_train_begin(self, logs=None):
        self._batches_since_save = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _path(self, epoch, batch, logs):
        fields = dict(logs or {})
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in fields:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError) as error:
            raise KeyError(f"ModelCheckpoint: cannot format `filepath` {self.filepath!r}: {error!r} is not "
                           f"'epoch', 'batch' or a log key ({', '.join(logs or {})})") from None

    def _should_save(self, epoch, logs, path):
        if not self.save_best_only:
            return True
        current = self._monitored(logs)
        if current is None:
            return True  # as Keras: save anyway when the monitored value is missing
        best = self.best
        improved = self._is_improvement(current, best)
        if self.verbose > 0:
            best_text = "None" if best is None else f"{best:.5f}"
            print(f"\nEpoch {epoch + 1}: {self.monitor} " + (
                f"improved from {best_text} to {current:.5f}, saving model to {path}" if improved
                else f"did not improve from {best_text}"))
        if improved:
            self.best = current
        return improved

    def _save(self, epoch, batch, logs):
        path = self._path(epoch, batch, logs)
        if not self._should_save(epoch, logs, path):
            return
        if os.path.isdir(path):
            raise IsADirectoryError(f"ModelCheckpoint: `filepath` {path!r} is an existing directory; give a file path")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        # Both write a temporary file beside `path` and rename it into place.
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose > 0 and not self.save_best_only:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")

