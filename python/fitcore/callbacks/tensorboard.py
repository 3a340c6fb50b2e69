"""TensorBoard: scalar summaries of a fit as event files TensorBoard reads, as keras.callbacks.TensorBoard
writes them (train/ and validation/ runs under log_dir; `epoch_<name>` per epoch, `batch_<name>`
per batch with update_freq). Needs the optional
`tensorboard` package: pip install "fitcore[tensorboard]"."""
import os
import time

from fitcore.callbacks.callback import Callback
from fitcore.distribution import is_chief

_IGNORED = {"histogram_freq": 0, "write_graph": True, "write_images": False, "profile_batch": 0,
            "embeddings_freq": 0, "embeddings_metadata": None}


def _event_writer_classes():
    try:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        raise ImportError("TensorBoard: writing event files needs the `tensorboard` package; install it with "
                          "pip install \"fitcore[tensorboard]\" (or pip install tensorboard)") from None
    return EventFileWriter, Event, Summary


class TensorBoard(Callback):
    """Writes the fit's losses and metrics as TensorBoard scalars.

    Under `log_dir`, the run `train` gets `epoch_<name>` per epoch (the training logs and
    `epoch_learning_rate`) and, with `update_freq` "batch" or N, `batch_<name>` every N-th batch
    (global batch count from 1); the run `validation` gets `epoch_<name>` from the `val_` logs, as
    Keras 3 names them (Keras's `evaluation_<name>_vs_iterations` is not written). Asking for more
    batch updates makes fit return to Python after each step. Start TensorBoard with
    `tensorboard --logdir <log_dir>`.

    Args:
        log_dir: the directory to write under (created when missing).
        histogram_freq: only 0 (fitcore writes no histograms).
        write_graph: accepted; fitcore writes no graph.
        write_images: only False.
        write_steps_per_second: also log `epoch_steps_per_second` (and `batch_steps_per_second`).
        update_freq: "epoch" (default), "batch" (every batch) or an int N (every N-th batch).
        profile_batch: only 0 (no profiling).
        embeddings_freq: only 0.
        embeddings_metadata: only None.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        if not isinstance(log_dir, (str, os.PathLike)):
            raise TypeError(f"TensorBoard: `log_dir` must be a path, got {log_dir!r}")
        given = {"histogram_freq": histogram_freq, "write_images": write_images, "profile_batch": profile_batch,
                 "embeddings_freq": embeddings_freq, "embeddings_metadata": embeddings_metadata}
        unsupported = {k: v for k, v in given.items() if v != _IGNORED[k]}
        if unsupported:
            raise ValueError(f"TensorBoard: fitcore writes scalars only; got {unsupported} (leave them at their "
                             f"defaults)")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (isinstance(update_freq, bool) or not isinstance(update_freq, int)
                                       or update_freq < 1):
            raise ValueError(f"TensorBoard: `update_freq` must be 'epoch', 'batch' or a positive int, got "
                             f"{update_freq!r}")
        _event_writer_classes()  # a missing package is an error now, not at the first epoch
        self.log_dir = os.fspath(log_dir)
        self.write_graph = write_graph
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = update_freq
        self._writers = {}
        self._global_train_batch = 0
        if update_freq != "epoch" or self.write_steps_per_second:
            # Batch hooks on the instance only: with update_freq="epoch" fit keeps running whole
            # stretches of steps in the core.
            self.on_train_batch_begin = self._on_train_batch_begin
            self.on_train_batch_end = self._on_train_batch_end

    # --- writing -----------------------------------------------------------------------------
    def _writer(self, run):
        if run not in self._writers:
            writer_class, _, _ = _event_writer_classes()
            self._writers[run] = writer_class(os.path.join(self.log_dir, run))
        return self._writers[run]

    def _scalars(self, run, values, step):
        if not is_chief():  # a data-parallel run's process 0 writes the logs
            return
        _, event_class, summary_class = _event_writer_classes()
        summary = summary_class(value=[summary_class.Value(tag=tag, simple_value=float(v))
                                       for tag, v in values.items()])
        self._writer(run).add_event(event_class(wall_time=time.time(), step=int(step), summary=summary))

    def _close(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # --- hooks -------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._epoch_started = time.time()
        self._epoch_first_batch = 0

    def on_train_end(self, logs=None):
        self._close()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_started = time.time()
        self._epoch_first_batch = self._global_train_batch

    def _on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        self._batch_started = time.time()

    def _on_train_batch_end(self, batch, logs=None):
        values = {}
        if self.update_freq != "epoch" and self._global_train_batch % self.update_freq == 0:
            values.update({f"batch_{k}": v for k, v in (logs or {}).items()})
        if self.write_steps_per_second:
            values["batch_steps_per_second"] = 1.0 / max(time.time() - self._batch_started, 1e-9)
        if values:
            self._scalars("train", values, self._global_train_batch)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = {f"epoch_{k}": v for k, v in logs.items() if not k.startswith("val_")}
        validation = {f"epoch_{k[4:]}": v for k, v in logs.items() if k.startswith("val_")}
        rate = getattr(getattr(self.model, "optimizer", None), "learning_rate", None)
        try:
            train.setdefault("epoch_learning_rate", float(rate))
        except (TypeError, ValueError):
            pass  # a schedule object: its value is per step, not per epoch
        if self.write_steps_per_second and self._global_train_batch > self._epoch_first_batch:
            elapsed = max(time.time() - self._epoch_started, 1e-9)
            train["epoch_steps_per_second"] = (self._global_train_batch - self._epoch_first_batch) / elapsed
        if train:
            self._scalars("train", train, epoch)
        if validation:
            self._scalars("validation", validation, epoch)
        for writer in self._writers.values():
            writer.flush()
