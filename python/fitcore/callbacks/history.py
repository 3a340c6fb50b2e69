"""History: the per-epoch record fit() returns and keeps as model.history.

`history` maps each log key (loss, metrics, val_*, learning_rate) to one value per epoch,
`epoch` holds the 0-based epoch indices, `params` the fit's verbose, epochs and steps.
"""
import json
import math

from fitcore.callbacks.callback import Callback


def _format_value(value):
    """4 significant digits without scientific notation, as R's prettyNum(digits = 4)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    text = f"{value:.4g}"
    if "e" in text:
        text = f"{value:.{max(0, 3 - math.floor(math.log10(abs(value))))}f}"
    return text


def _split_key(key):
    """(metric, data): 'val_accuracy' -> ('accuracy', 'validation'), 'loss' -> ('loss', 'training')."""
    return (key[4:], "validation") if key.startswith("val_") else (key, "training")


class History(Callback):
    """The record of a fit, returned by fit() and kept as `model.history`.

    Attributes:
        history: `{key: [value per epoch]}` for "loss", each metric, "val_*" where validated and
            "learning_rate" where a callback logged it; keys sorted, as Keras 3 logs them.
        epoch: the 0-based epochs trained.
        params: `{"verbose": ..., "epochs": ..., "steps": ...}` as fit was given them.

    `print(history)` summarises the final epoch; `plot()`, `to_dataframe()`, `to_dict()` and
    `to_json()` give it other forms.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []
        # The epochs each key was logged at (val_* only on validated epochs with validation_freq > 1).
        self.key_epochs = {}

    def on_train_begin(self, logs=None):
        self.history = {}
        self.epoch = []
        self.key_epochs = {}
        if self.model is not None:
            self.model.history = self  # already during fit: BackupAndRestore refills it

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(int(epoch))
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value) if _is_number(value) else value)
            self.key_epochs.setdefault(key, []).append(int(epoch))
        if self.model is not None:
            self.model.history = self

    # --- summaries ---------------------------------------------------------------------------
    def __repr__(self):
        if not self.epoch:
            return "<History: no epochs trained>"
        params = self.params or {}
        head = (f"Trained {len(self.epoch)} epoch(s) (epochs={params.get('epochs')}, "
                f"steps={params.get('steps')}), last epoch {self.epoch[-1] + 1}")
        finals = {key: values[-1] for key, values in self.history.items() if values}
        width = max((len(k) for k in finals), default=0)
        lines = [f"{key:>{width}}: {_format_value(value)}" for key, value in finals.items()]
        return "\n".join([head, "Final epoch (plot to see history):"] + lines)

    __str__ = __repr__

    # --- conversions -------------------------------------------------------------------------
    def to_dict(self):
        """Everything the History holds.

        Returns:
            `{"epoch": [...], "history": {...}, "params": {...}, "key_epochs": {...}}` (copies).
        """
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()},
                "params": dict(self.params or {}), "key_epochs": {k: list(v) for k, v in self._key_epochs().items()}}

    @classmethod
    def from_dict(cls, data):
        """A History from what `to_dict()` returned.

        Args:
            data: the dict.

        Returns:
            A new History.
        """
        if not isinstance(data, dict) or "history" not in data:
            raise ValueError("History.from_dict: `data` must be a dict with keys 'epoch', 'history' and 'params' "
                             f"(as History.to_dict() returns), got {type(data).__name__}")
        history = cls()
        history.history = {str(k): list(v) for k, v in data["history"].items()}
        lengths = {len(v) for v in history.history.values()}
        history.epoch = [int(e) for e in data.get("epoch", range(max(lengths, default=0)))]
        history.params = dict(data.get("params") or {})
        history.key_epochs = {str(k): [int(e) for e in v] for k, v in (data.get("key_epochs") or {}).items()}
        return history

    def _key_epochs(self):
        """key -> epochs it was logged at; keys with as many values as epochs need no record."""
        return {key: self.key_epochs.get(key) or self.epoch[len(self.epoch) - len(values):]
                for key, values in self.history.items()}

    def to_json(self, path=None):
        """The History as a JSON string. NaN/inf are kept (as Python's json writes them), so a
        diverged run round-trips.

        Args:
            path: a file to write the string to as well, or None.

        Returns:
            The JSON string.
        """
        text = json.dumps(self.to_dict())
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    @classmethod
    def from_json(cls, text_or_path):
        """A History from JSON.

        Args:
            text_or_path: `to_json()`'s string, or the path of a file holding it.

        Returns:
            A new History.
        """
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            with open(text_or_path, encoding="utf-8") as f:
                text = f.read()
        return cls.from_dict(json.loads(text))

    def to_dataframe(self):
        """The History in long format, as R keras3's as.data.frame(history).

        Returns:
            A pandas DataFrame with columns epoch (1-based, as displayed), value, metric and data
            ('training' or 'validation'); one row per epoch and logged value.
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("History.to_dataframe() needs pandas: pip install fitcore[dataframe]") from None
        rows = []
        key_epochs = self._key_epochs()
        for key, values in self.history.items():
            metric, data = _split_key(key)
            for epoch, value in zip(key_epochs[key], values):
                rows.append((epoch + 1, value, metric, data))
        frame = pd.DataFrame(rows, columns=["epoch", "value", "metric", "data"])
        frame["metric"] = pd.Categorical(frame["metric"], categories=list(dict.fromkeys(self._metrics())))
        frame["data"] = pd.Categorical(frame["data"], categories=["training", "validation"])
        return frame.sort_values(["data", "metric", "epoch"], kind="stable").reset_index(drop=True)

    def _metrics(self):
        """Metric names in log order, without the val_ prefix."""
        return list(dict.fromkeys(_split_key(key)[0] for key in self.history))

    def plot(self, metrics=None, figsize=None):
        """Plots the History: one panel per metric, training and validation overlaid, epochs
        1-based on x as the progress display counts them ("Epoch 3/10").

        Args:
            metrics: a metric name or a list of them (without "val_"); None: every metric.
            figsize: matplotlib's (width, height) in inches, or None for a size by panel count.

        Returns:
            The matplotlib Figure.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("History.plot() needs matplotlib: pip install fitcore[plot]") from None
        names = self._metrics() if metrics is None else ([metrics] if isinstance(metrics, str) else list(metrics))
        unknown = [m for m in names if m not in self._metrics()]
        if unknown:
            raise ValueError(f"History.plot: `metrics` {unknown} are not in the history; it has {self._metrics()}")
        if not names:
            raise ValueError("History.plot: the history is empty (no epoch has finished)")
        fig, axes = plt.subplots(len(names), 1, sharex=True, squeeze=False,
                                 figsize=figsize or (6.4, 1.2 + 2.2 * len(names)))
        draw_panels(fig, [ax for row in axes for ax in row], self._key_epochs(), self.history, names)
        return fig


def draw_panels(fig, axes, key_epochs, history, names):
    """Fills one axis per metric name; shared with the live view.

    Args:
        fig: the matplotlib Figure.
        axes: one axis per name.
        key_epochs: `{key: 0-based epochs it was logged at}`.
        history: `{key: values}`.
        names: the metric names (without "val_").
    """
    for ax, name in zip(axes, names):
        ax.clear()
        for key, label, color in ((name, "training", "tab:blue"), ("val_" + name, "validation", "tab:orange")):
            values = history.get(key)
            if values:
                x = [e + 1 for e in key_epochs[key]]
                ax.plot(x, values, marker="o" if len(x) <= 30 else None, markersize=3, color=color, label=label)
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        if len(ax.get_lines()) > 1:
            ax.legend(loc="best", fontsize="small")
    axes[-1].set_xlabel("epoch")
    axes[-1].xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()


def _is_number(value):
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False
