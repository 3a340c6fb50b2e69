"""EarlyStopping: stops fit when a monitored quantity has stopped improving (Keras 3 semantics)."""
from fitcore.callbacks.callback import Callback
from fitcore.callbacks.monitor import check_mode, direction, monitored_value
from fitcore.data.validation import check_int


class EarlyStopping(Callback):
    """Stops when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    As Keras 3: epochs before `start_from_epoch` are ignored; with `baseline`, an improvement only
    resets the patience count when it also beats the baseline; with `restore_best_weights`, the
    weights of the best epoch are restored at the end of training, whether it stopped early or not.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = check_int("patience", patience, low=0)
        self.verbose = verbose
        self.mode = check_mode("EarlyStopping", mode)
        self.baseline = None if baseline is None else float(baseline)
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = check_int("start_from_epoch", start_from_epoch, low=0)
        self._better = None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights = None

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        return self._better(value, reference)

    def on_epoch_end(self, epoch, logs=None):
        if self._better is None:
            increasing = direction("EarlyStopping", self.model, self.monitor, self.mode) == "max"
            delta = self.min_delta
            self._better = (lambda a, b: a - delta > b) if increasing else (lambda a, b: a + delta < b)
        current = monitored_value("EarlyStopping", logs, self.monitor)
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
