"""The hook protocol, with Keras's hook names. Every hook is a no-op here."""

BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
               "on_predict_batch_begin", "on_predict_batch_end", "on_batch_begin", "on_batch_end")


class Callback:
    """Base class of callbacks: objects whose hooks fit, evaluate and predict call as they run.

    Subclass it and override the hooks you need; every hook is a no-op here. `self.model` is the
    model being trained (set `self.model.stop_training = True` to stop after the current step or
    epoch) and `self.params` holds `verbose` (as given to fit), `epochs` and `steps`. Every hook
    gets `logs`, a dict (never None): empty at the begin hooks, the running metrics at batch ends,
    the epoch's metrics (with `val_*` after validation) at `on_epoch_end`, `{"outputs": ...}` at
    `on_predict_batch_end`. A callback with a batch hook makes fit run the core one step at a time;
    without one, the core runs long stretches of steps between two calls.
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        """Called by fit / evaluate / predict before the first hook.

        Args:
            model: the model being run.
        """
        self.model = model

    def set_params(self, params):
        """Called by fit / evaluate / predict before the first hook.

        Args:
            params: `{"verbose": ..., "epochs": ..., "steps": ...}`.
        """
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    # Keras's older names for the training batch hooks: the base training hooks call them.
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    # Callbacks that only need to see progress now and then (the progress bar) may be called
    # after a run of steps rather than after each one; the core then runs long stretches.
    needs_every_batch = True

    def overrides_batch_hooks(self):
        """Whether a subclass or the instance itself implements any batch hook (then fit calls it after
        every step).

        Returns:
            True or False.
        """
        return any(hook in vars(self) or getattr(type(self), hook) is not getattr(Callback, hook)
                   for hook in BATCH_HOOKS)


def check_settable_learning_rate(callback):
    """Callbacks that set the rate cannot drive an optimizer built on a schedule: say so before training
    (Keras raises the optimizer's TypeError only when the callback first sets the rate).

    Args:
        callback: the callback about to set `callback.model.optimizer.learning_rate`.
    """
    optimizer = callback.model.optimizer
    schedule = getattr(optimizer, "_schedule", None)
    if schedule is not None:
        raise TypeError(f"{type(callback).__name__} sets the optimizer's learning rate, but it was created with the "
                        f"schedule {type(schedule).__name__}, so its learning rate is not settable; pass a float "
                        f"`learning_rate` to the optimizer to use {type(callback).__name__}")
