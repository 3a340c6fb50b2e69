"""CSVLogger: one CSV row per epoch (epoch, then the log keys sorted), as Keras writes it."""
import csv
import os

from fitcore.callbacks.callback import Callback
from fitcore.distribution import is_chief


class CSVLogger(Callback):
    """Streams the epoch results to a CSV file: a header `epoch,<keys sorted>` then one row per epoch.

    Args:
        filename: the CSV file's path.
        separator: the one-character column separator.
        append: add to an existing file (its header kept) rather than overwrite it.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"CSVLogger: `filename` must be a path, got {filename!r}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"CSVLogger: `separator` must be a single character, got {separator!r}")
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self.keys = None
        self._file = None
        self._writer = None

    def on_train_begin(self, logs=None):
        if not is_chief():  # a data-parallel run's process 0 writes the log
            return
        write_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8") as f:
                write_header = not f.readline()  # an existing file has its header already
        self._write_header = write_header
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        if self._file is None:
            return
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                # validation_freq > 1 validates later epochs: keep columns for them (filled "NA")
                self.keys += ["val_" + k for k in self.keys]
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self.keys, delimiter=self.sep,
                                          extrasaction="ignore")
            if self._write_header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
        self._file = None
        self._writer = None
