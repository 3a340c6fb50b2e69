"""History: the per-epoch record fit() returns."""
from fitcore.callbacks.callback import Callback


class History(Callback):
    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self

    def __repr__(self):
        lines = [f"Final epoch ({len(self.epoch)} epochs):" if self.epoch else "History (no epochs)"]
        lines += [f"{key:>12}: {values[-1]:.4g}" for key, values in self.history.items() if values]
        return "\n".join(lines)
