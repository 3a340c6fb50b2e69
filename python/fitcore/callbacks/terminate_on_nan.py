"""TerminateOnNaN: stops fit at the first step whose loss is NaN or infinite."""
import math

from fitcore.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Stops training at the first step whose loss is NaN or infinite (fit then runs step by step)."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
