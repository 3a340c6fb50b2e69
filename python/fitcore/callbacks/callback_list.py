"""Dispatches every hook to every callback, in order, and adds the default ones.

Order: the user's callbacks, History, BackupAndRestore (it reads and refills the History),
ProgbarLogger and the metrics view (they show what the others added to the logs, such as
learning_rate), as Keras appends History and ProgbarLogger after the user's callbacks.
"""
from fitcore.callbacks.backup_and_restore import BackupAndRestore
from fitcore.callbacks.callback import Callback
from fitcore.callbacks.history import History
from fitcore.callbacks.progbar_logger import ProgbarLogger


class CallbackList:
    """The callbacks of one fit / evaluate / predict call, every hook dispatched to each in order.

    Args:
        callbacks: the user's list of `Callback`s (or one, or None).
        model: the model, given to every callback's `set_model`.
        add_history: append a `History` unless the list has one (fit).
        add_progbar: append a `ProgbarLogger` unless the list has one (verbose != 0).
        extra: further callbacks to append (the metrics view); None entries are skipped.
        **params: `verbose`, `epochs`, `steps`, given to every callback's `set_params`.
    """

    def __init__(self, callbacks=None, model=None, add_history=False, add_progbar=False, extra=(), **params):
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        elif not isinstance(callbacks, (list, tuple)) or not all(isinstance(c, Callback) for c in callbacks):
            raise TypeError(f"`callbacks` must be a list of fc.callbacks.Callback instances, got {callbacks!r}")
        backups = [c for c in callbacks if isinstance(c, BackupAndRestore)]
        self.callbacks = [c for c in callbacks if not isinstance(c, BackupAndRestore)]
        self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
        if add_history and self.history is None:
            self.history = History()
            self.callbacks.append(self.history)
        self.callbacks += backups
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        self.callbacks += [c for c in extra if c is not None]
        self.params = params
        for c in self.callbacks:
            c.set_params(params)
            if model is not None:
                c.set_model(model)

    @property
    def needs_every_batch(self):
        """True when some callback must see every step's batch hooks (the core then runs one step
        per call)."""
        return any(c.needs_every_batch and c.overrides_batch_hooks() for c in self.callbacks)

    def _call(self, hook, *args):
        for c in self.callbacks:
            getattr(c, hook)(*args)

    # Every hook gets a dict (never None), as Keras 3 hands them.
    def on_train_begin(self, logs=None): self._call("on_train_begin", _dict(logs))
    def on_train_end(self, logs=None): self._call("on_train_end", _dict(logs))
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, _dict(logs))
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", epoch, _dict(logs))
    def on_train_batch_begin(self, batch, logs=None): self._call("on_train_batch_begin", batch, _dict(logs))
    def on_train_batch_end(self, batch, logs=None): self._call("on_train_batch_end", batch, _dict(logs))
    def on_test_begin(self, logs=None): self._call("on_test_begin", _dict(logs))
    def on_test_end(self, logs=None): self._call("on_test_end", _dict(logs))
    def on_test_batch_begin(self, batch, logs=None): self._call("on_test_batch_begin", batch, _dict(logs))
    def on_test_batch_end(self, batch, logs=None): self._call("on_test_batch_end", batch, _dict(logs))
    def on_predict_begin(self, logs=None): self._call("on_predict_begin", _dict(logs))
    def on_predict_end(self, logs=None): self._call("on_predict_end", _dict(logs))
    def on_predict_batch_begin(self, batch, logs=None): self._call("on_predict_batch_begin", batch, _dict(logs))
    def on_predict_batch_end(self, batch, logs=None): self._call("on_predict_batch_end", batch, _dict(logs))


def _dict(logs):
    return {} if logs is None else logs
