"""ReduceLROnPlateau: multiplies the learning rate by `factor` when `monitor` stops improving."""
from fitcore.callbacks.callback import Callback, check_settable_learning_rate
from fitcore.callbacks.monitor import check_mode, direction, monitored_value
from fitcore.data.validation import check_int


class ReduceLROnPlateau(Callback):
    """As Keras 3: after `patience` epochs without an improvement larger than `min_delta`, the rate
    becomes max(lr * factor, min_lr), then `cooldown` epochs pass before counting again. Each
    epoch's logs get `learning_rate` (the rate the epoch was trained with)."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__()
        factor = float(factor)
        if not 0.0 <= factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: `factor` must be in [0, 1), got {factor!r}")
        self.monitor = monitor
        self.factor = factor
        self.patience = check_int("patience", patience, low=0)
        self.verbose = verbose
        self.mode = check_mode("ReduceLROnPlateau", mode)
        self.min_delta = float(min_delta)
        self.cooldown = check_int("cooldown", cooldown, low=0)
        self.min_lr = float(min_lr)

    def on_train_begin(self, logs=None):
        check_settable_learning_rate(self)
        self.cooldown_counter = 0
        self.wait = 0
        self.best = None
        self._increasing = None

    def _improved(self, current):
        if self.best is None:
            return True
        return current > self.best + self.min_delta if self._increasing else current < self.best - self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            logs = {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = monitored_value("ReduceLROnPlateau", logs, self.monitor)
        if current is None:
            return
        if self._increasing is None:
            self._increasing = direction("ReduceLROnPlateau", self.model, self.monitor, self.mode) == "max"
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(optimizer.learning_rate)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    optimizer.learning_rate = new
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
