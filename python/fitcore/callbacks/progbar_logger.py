"""Progress display for fit, evaluate and predict, as Keras prints it.

verbose 1: a bar per epoch redrawn in place with "\\r" (at most ~10 times a second);
verbose 2: one line per epoch, no carriage returns (for logs and pipes).
"""
import shutil
import sys
import time

from fitcore.callbacks.callback import Callback
from fitcore.callbacks.metrics_viewer import in_notebook
from fitcore.distribution import is_chief

_REDRAW_INTERVAL = 0.1  # seconds between two redraws of the bar
_BAR_WIDTH = 20


def format_duration(seconds):
    """A duration as Keras shows it: "7s", "2:05", "1:02:05".

    Args:
        seconds: the duration.

    Returns:
        The text.
    """
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds >= 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def format_per_step(seconds):
    """Time per step as Keras shows it: "2s/step", "15ms/step", "80us/step".

    Args:
        seconds: the time of one step.

    Returns:
        The text.
    """
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def format_logs(logs):
    """The logs as the progress line shows them: "accuracy: 0.9000 - loss: 0.2500".

    Args:
        logs: a dict of values (non-numbers are skipped).

    Returns:
        The text.
    """
    parts = []
    for key, value in (logs or {}).items():
        try:
            value = float(value)
        except (TypeError, ValueError):
            continue
        parts.append(f"{key}: {value:.4f}" if value == 0 or abs(value) >= 1e-3 else f"{key}: {value:.4e}")
    return " - ".join(parts)


def interactive():
    """Whether the output is a terminal or a notebook, where a bar redrawn in place reads well.

    Returns:
        True or False.
    """
    return in_notebook() or (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())


def resolve_verbose(verbose):
    """The display mode a `verbose` argument means.

    Args:
        verbose: 0, 1, 2 or "auto" (checked already).

    Returns:
        0 (silent), 1 (a progress bar) or 2 (one line per epoch); "auto" is 1 on a terminal or in
        a notebook, 2 when the output goes to a file or a pipe.
    """
    if verbose == "auto":
        return 1 if interactive() else 2
    return verbose


class _Bar:
    """One bar (an epoch, an evaluate or a predict run) of `target` steps (None: unknown)."""

    def __init__(self, write, target, verbose, glyphs):
        self.write, self.target, self.verbose, self.glyphs = write, target, verbose, glyphs
        self.start = time.perf_counter()
        self.last_draw = 0.0
        self.seen = 0
        self.drawn_width = 0

    def update(self, current, logs):
        self.seen = current
        now = time.perf_counter()
        if self.verbose == 1 and (now - self.last_draw >= _REDRAW_INTERVAL or current == self.target):
            self.last_draw = now
            self._draw(self._line(current, logs, now, final=False), final=False)

    def finish(self, logs):
        now = time.perf_counter()
        current = self.seen or self.target or 0  # fewer than target when training stopped mid-epoch
        if self.verbose == 1:
            self._draw(self._line(current, logs, now, final=True), final=True)
        elif self.verbose == 2:
            elapsed = now - self.start
            count = f"{current}/{self.target or current}"
            parts = [count, format_duration(elapsed)] + ([format_per_step(elapsed / current)] if current else [])
            text = format_logs(logs)
            self.write(" - ".join(parts + ([text] if text else [])) + "\n")

    def _line(self, current, logs, now, final):
        elapsed = now - self.start
        if self.target:
            digits = len(str(self.target))
            done = int(_BAR_WIDTH * min(current, self.target) / self.target)
            head = f"{current:>{digits}}/{self.target} " + self.glyphs[0] * done + self.glyphs[1] * (_BAR_WIDTH - done)
        else:
            head = f"{current}/Unknown"
        timing = format_duration(elapsed)
        if current:
            timing += " " + format_per_step(elapsed / current)
            if not final and self.target and current < self.target:
                timing += f" - ETA: {format_duration(elapsed / current * (self.target - current))}"
        text = format_logs(logs)
        return f"{head} {timing}" + (f" - {text}" if text else "")

    def _draw(self, line, final):
        if not final:
            # A line wider than the terminal would wrap, and "\r" would only return to its last row.
            line = line[:max(20, shutil.get_terminal_size((120, 24)).columns - 1)]
        padding = " " * max(0, self.drawn_width - len(line))
        self.drawn_width = len(line)
        self.write("\r" + line + padding + ("\n" if final else ""))


class ProgbarLogger(Callback):
    """The progress display fit, evaluate and predict add when verbose != 0.

    verbose 1 (params["verbose"]; "auto" on a terminal): a bar per epoch redrawn in place; verbose
    2 ("auto" into a file or pipe): one line per epoch. "Epoch i/N" heads each epoch when N > 1.

    Args:
        stream: where to write (default sys.stdout).
    """

    needs_every_batch = False  # redrawn after runs of steps, not after each one

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream
        self._in_fit = False
        self._bar = None

    def _out(self):
        return self.stream or sys.stdout

    def _write(self, text):
        if not is_chief():  # a data-parallel run's other processes show the same progress
            return
        out = self._out()
        out.write(text)
        out.flush()

    def _glyphs(self):
        """The Keras bar characters where the output can encode them, ASCII otherwise."""
        try:
            "━─".encode(getattr(self._out(), "encoding", None) or "ascii")
            return "━", "─"
        except (UnicodeEncodeError, LookupError):
            return "=", "."

    @property
    def verbose(self):
        """The display mode: params["verbose"] as fit was given it, with "auto" resolved."""
        return resolve_verbose(self.params.get("verbose", 1))

    def _new_bar(self):
        steps = self.params.get("steps")
        self._bar = _Bar(self._write, steps if steps and steps > 0 else None, self.verbose, self._glyphs())

    # --- fit ---------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and (self.params.get("epochs") or 1) > 1:  # as Keras: no "Epoch 1/1"
            self._write(f"Epoch {epoch + 1}/{self.params.get('epochs')}\n")
        self._new_bar()

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._bar.update(batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.finish(logs)
            self._bar = None

    # --- evaluate and predict (validation inside fit shows no bar of its own, as Keras) ----------
    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._new_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit and self._bar is not None:
            self._bar.update(batch + 1, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit and self._bar is not None:
            self._bar.finish(logs)
            self._bar = None

    def on_predict_begin(self, logs=None):
        self._new_bar()

    def on_predict_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._bar.update(batch + 1, None)

    def on_predict_end(self, logs=None):
        if self._bar is not None:
            self._bar.finish(None)
            self._bar = None
