"""Progress display: verbose 1 is a bar redrawn in place, verbose 2 one line per epoch."""
import sys
import time

from fitcore.callbacks.callback import Callback


def format_logs(logs):
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())


class ProgbarLogger(Callback):
    needs_every_batch = False  # redrawn after runs of steps, not after each one

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream

    def _write(self, text):
        out = self.stream or sys.stdout
        out.write(text)
        out.flush()

    def on_train_begin(self, logs=None):
        self.verbose = self.params.get("verbose", 1)
        self.epochs = self.params.get("epochs")
        self.steps = self.params.get("steps")

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        if self.verbose == 1 or self.verbose == 2:
            self._write(f"Epoch {epoch + 1}/{self.epochs}\n")

    def on_train_batch_end(self, batch, logs=None):
        if self.verbose != 1:
            return
        done = batch + 1
        total = self.steps if self.steps and self.steps > 0 else None
        width = 30
        filled = width if total is None else int(width * min(done, total) / total)
        bar = "━" * filled + " " * (width - filled)
        count = f"{done}/{total}" if total else f"{done}"
        elapsed = time.perf_counter() - self._start
        self._write(f"\r{count} {bar} {elapsed:.0f}s - {format_logs(logs or {})}")

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        if self.verbose == 1:
            self._write("\n")
        if self.verbose == 2:
            self._write(f"{self.steps}/{self.steps} - {elapsed:.1f}s - {format_logs(logs or {})}\n")
