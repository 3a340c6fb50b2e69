"""ReduceLROnPlateau: multiplies the learning rate by `factor` when `monitor` stops improving."""
from fitcore.callbacks.callback import check_settable_learning_rate
from fitcore.callbacks.monitor import MonitorCallback
from fitcore.data.validation import check_int, check_real


class ReduceLROnPlateau(MonitorCallback):
    """Reduces the learning rate when a monitored quantity has stopped improving.

    As Keras 3: after `patience` epochs without an improvement larger than `min_delta`, the rate
    becomes max(lr * factor, min_lr), then `cooldown` epochs pass before counting again. Each
    epoch's logs get `learning_rate` (the rate the epoch was trained with).

    Args:
        monitor: the log key to watch (default "val_loss").
        factor: the rate is multiplied by this, in [0, 1).
        patience: epochs without improvement before the rate is reduced.
        verbose: 1 prints a line at each reduction.
        mode: "min", "max" or "auto" (from the quantity's name or metric).
        min_delta: the least change that counts as an improvement (absolute value used).
        cooldown: epochs after a reduction during which no epoch counts as without improvement.
        min_lr: the rate is never reduced below this.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.factor = check_real("factor", factor, low=0.0, high=1.0, high_open=True, owner="ReduceLROnPlateau")
        self.patience = check_int("patience", patience, low=0)
        self.verbose = verbose
        self.cooldown = check_int("cooldown", cooldown, low=0)
        self.min_lr = check_real("min_lr", min_lr, low=0.0, owner="ReduceLROnPlateau")

    def on_train_begin(self, logs=None):
        check_settable_learning_rate(self)
        self.cooldown_counter = 0
        self.wait = 0
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = self._monitored(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                self._reduce(optimizer, epoch)

    def _reduce(self, optimizer, epoch):
        old = float(optimizer.learning_rate)
        if old > self.min_lr:
            new = max(old * self.factor, self.min_lr)
            optimizer.learning_rate = new
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
            self.cooldown_counter = self.cooldown
            self.wait = 0
