"""view_metrics: a live per-epoch view of loss and metrics during fit (training and validation).

In a notebook with matplotlib: one figure, redrawn in place after each epoch.
Elsewhere (view_metrics=True in a terminal): a compact text chart after each epoch.
"""
import math
import sys

from fitcore.callbacks.callback import Callback
from fitcore.distribution import is_chief

_SPARKS = "▁▂▃▄▅▆▇█"
_TEXT_WIDTH = 30  # epochs shown in the text chart (the latest ones)


def in_notebook():
    """True inside a Jupyter (IPython kernel) notebook."""
    # A notebook's kernel has imported IPython long before: never import it here (that alone costs
    # a second and tens of MB in a plain script).
    if "IPython" not in sys.modules:
        return False
    try:
        from IPython import get_ipython

        shell = get_ipython()
        return shell is not None and "IPKernelApp" in shell.config
    except Exception:
        return False


def _has_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False


def resolve_view_metrics(view_metrics, verbose, epochs, has_metrics):
    """The MetricsViewer fit adds, or None.

    Args:
        view_metrics: True/False force it on/off; "auto" (fit's default) and None follow
            `fc.config.set_view_metrics(...)`, itself "auto" unless changed: a live plot in a
            notebook with matplotlib when metrics were compiled, epochs > 1 and verbose > 0.
        verbose: fit's display mode (0, 1 or 2, "auto" resolved).
        epochs: fit's `epochs`.
        has_metrics: whether compile() was given metrics.

    Returns:
        A `MetricsViewer` or None.
    """
    if view_metrics is None or view_metrics == "auto":
        from fitcore import config

        view_metrics = config.get_view_metrics()
    if view_metrics is False:
        return None
    plot = in_notebook() and _has_matplotlib()
    if view_metrics == "auto":
        return MetricsViewer("plot") if plot and has_metrics and epochs > 1 and verbose > 0 else None
    return MetricsViewer("plot" if plot else "text")


def sparkline(values):
    """A text chart of `values`, one block character per value ("!" for NaN/inf).

    Args:
        values: floats.

    Returns:
        A string as long as `values`.
    """
    finite = [v for v in values if isinstance(v, float) and math.isfinite(v)]
    if not finite:
        return "?" * len(values)
    low, high = min(finite), max(finite)
    span = (high - low) or 1.0
    return "".join(_SPARKS[min(len(_SPARKS) - 1, int((v - low) / span * len(_SPARKS)))]
                   if isinstance(v, float) and math.isfinite(v) else "!" for v in values)


class MetricsViewer(Callback):
    """The live per-epoch view of loss and metrics that fit adds for `view_metrics`.

    Args:
        mode: "plot" (a matplotlib figure redrawn in a notebook) or "text" (a chart printed after
            each epoch).
        stream: where the text chart goes (default sys.stdout).
    """

    needs_every_batch = False

    def __init__(self, mode="text", stream=None):
        super().__init__()
        if mode not in ("plot", "text"):
            raise ValueError(f"MetricsViewer: `mode` must be 'plot' or 'text', got {mode!r}")
        self.mode = mode
        self.stream = stream
        self._figure = None
        self._handle = None

    def on_train_begin(self, logs=None):
        self._figure = None
        self._handle = None

    def on_epoch_end(self, epoch, logs=None):
        history = getattr(self.model, "history", None)  # History has recorded this epoch already
        if history is None or not history.history or not is_chief():
            return
        if self.mode == "plot":
            self._draw_plot(history)
        else:
            self._draw_text(history)

    def _draw_plot(self, history):
        from matplotlib.figure import Figure
        from IPython.display import display

        from fitcore.callbacks.history import draw_panels

        names = history._metrics()
        if self._figure is None or len(self._figure.axes) != len(names):
            self._figure = Figure(figsize=(6.4, 1.2 + 2.2 * len(names)))
            self._figure.subplots(len(names), 1, sharex=True, squeeze=False)
        draw_panels(self._figure, self._figure.axes, history._key_epochs(), history.history, names)
        if self._handle is None:
            self._handle = display(self._figure, display_id=True)
        else:
            self._handle.update(self._figure)

    def _draw_text(self, history):
        out = self.stream or sys.stdout
        names = history._metrics()
        width = max(len(n) for n in names)
        for name in names:
            parts = []
            for key, label in ((name, ""), ("val_" + name, "val ")):
                values = history.history.get(key)
                if values:
                    shown = [float(v) for v in values[-_TEXT_WIDTH:]]
                    parts.append(f"{label}{sparkline(shown):<{min(_TEXT_WIDTH, len(history.epoch))}} {shown[-1]:.4g}")
            out.write(f"  {name:<{width}}  " + "  |  ".join(parts) + "\n")
        out.flush()
