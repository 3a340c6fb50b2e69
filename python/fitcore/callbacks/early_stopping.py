"""EarlyStopping: stops fit when a monitored quantity has stopped improving (Keras 3 semantics)."""
from fitcore.callbacks.monitor import MonitorCallback
from fitcore.data.validation import check_int, check_real


class EarlyStopping(MonitorCallback):
    """Stops training when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    As Keras 3: epochs before `start_from_epoch` are ignored; with `baseline`, an improvement only
    resets the patience count when it also beats the baseline; with `restore_best_weights`, the
    weights of the best epoch are restored at the end of training, whether it stopped early or not.

    Args:
        monitor: the log key to watch (default "val_loss").
        min_delta: the least change that counts as an improvement (absolute value used).
        patience: epochs without improvement after which training stops.
        verbose: 1 prints a line when it stops (and when it restores weights).
        mode: "min", "max" or "auto" (from the quantity's name or metric).
        baseline: a value the monitored quantity must beat for the patience count to reset.
        restore_best_weights: put back the weights of the best epoch at the end of training.
        start_from_epoch: epochs to wait before watching (a warm-up).
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = check_int("patience", patience, low=0)
        self.verbose = verbose
        self.baseline = check_real("baseline", baseline, allow_none=True, owner="EarlyStopping")
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = check_int("start_from_epoch", start_from_epoch, low=0)

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        current = self._monitored(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
