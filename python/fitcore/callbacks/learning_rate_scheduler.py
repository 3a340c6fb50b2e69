"""LearningRateScheduler: sets the optimizer's rate at each epoch's start from schedule(epoch, lr)."""
import numbers

from fitcore.callbacks.callback import Callback, check_settable_learning_rate


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at the start of each epoch.

    Each epoch's logs get `learning_rate`. The optimizer must have a float learning rate (not a
    schedule).

    Args:
        schedule: `schedule(epoch, lr)` (0-based epoch, current rate) returning the new rate; a
            one-argument `schedule(epoch)` also works, as in Keras.
        verbose: 1 prints the rate set at each epoch.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: `schedule` must be callable, got {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose

    def on_train_begin(self, logs=None):
        check_settable_learning_rate(self)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        try:
            rate = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:  # the one-argument form schedule(epoch)
            rate = self.schedule(epoch)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
            raise ValueError(f"LearningRateScheduler: `schedule` must return a float, got {rate!r} at epoch {epoch}")
        optimizer.learning_rate = float(rate)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(rate)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
