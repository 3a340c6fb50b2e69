"""History: contents, print summary (R keras3 style), long data frame, JSON round trip, plot."""
import math

import numpy as np
import pytest

import fitcore as fc
from fitcore.callbacks import History


def trained_history(epochs=3, validation_freq=1):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    fc.utils.set_random_seed(0)
    model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=epochs, validation_split=0.25, verbose=0,
                        validation_freq=validation_freq)
    return model, history


def test_history_contents_and_model_attribute():
    model, history = trained_history()
    assert model.history is history
    assert history.epoch == [0, 1, 2]
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]  # sorted, as Keras 3.15
    assert all(len(v) == 3 and all(isinstance(e, float) for e in v) for v in history.history.values())
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 4}


def test_repr_summarises_the_final_epoch_with_aligned_labels():
    history = History.from_dict({"epoch": [0, 1], "history": {"loss": [0.9, 0.123456], "val_accuracy": [0.5, 0.875]},
                                 "params": {"epochs": 2, "steps": 4, "verbose": 1}})
    lines = repr(history).splitlines()
    assert "Final epoch (plot to see history):" in lines
    tail = lines[lines.index("Final epoch (plot to see history):") + 1:]
    assert tail == ["        loss: 0.1235", "val_accuracy: 0.875"]
    assert str(history) == repr(history)


def test_to_dataframe_long_format():
    _, history = trained_history()
    frame = history.to_dataframe()
    assert list(frame.columns) == ["epoch", "value", "metric", "data"]
    assert len(frame) == 4 * 3
    assert set(frame["data"]) == {"training", "validation"}
    assert set(frame["metric"]) == {"loss", "accuracy"}
    val_acc = frame[(frame.metric == "accuracy") & (frame.data == "validation")]
    assert list(val_acc.epoch) == [1, 2, 3]  # 1-based, as displayed and as R
    assert list(val_acc.value) == history.history["val_accuracy"]


def test_validation_freq_keeps_validation_values_at_their_epochs():
    _, history = trained_history(epochs=4, validation_freq=2)
    assert len(history.history["val_loss"]) == 2
    frame = history.to_dataframe()
    assert list(frame[(frame.metric == "loss") & (frame.data == "validation")].epoch) == [2, 4]
    again = History.from_json(history.to_json())
    assert again._key_epochs()["val_loss"] == [1, 3]


def test_json_round_trip_keeps_everything(tmp_path):
    _, history = trained_history()
    history.history["loss"][0] = float("nan")  # a diverged value survives too
    path = tmp_path / "history.json"
    text = history.to_json(str(path))
    for again in (History.from_json(text), History.from_json(str(path))):
        assert again.epoch == history.epoch and again.params == history.params
        assert math.isnan(again.history["loss"][0])
        assert again.history["loss"][1:] == history.history["loss"][1:]
        assert {k: v for k, v in again.history.items() if k != "loss"} == \
            {k: v for k, v in history.history.items() if k != "loss"}
    assert History.from_dict(history.to_dict()).to_dict()["history"]["accuracy"] == history.history["accuracy"]
    with pytest.raises(ValueError, match="data"):
        History.from_dict([1, 2])


def test_plot_has_one_panel_per_metric_with_both_curves(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    _, history = trained_history()
    fig = history.plot()
    assert [ax.get_ylabel() for ax in fig.axes] == ["accuracy", "loss"]
    for ax, name in zip(fig.axes, ["accuracy", "loss"]):
        training, validation = ax.get_lines()
        assert list(training.get_xdata()) == [1, 2, 3]
        assert list(training.get_ydata()) == history.history[name]
        assert list(validation.get_ydata()) == history.history["val_" + name]
    path = tmp_path / "history.png"
    fig.savefig(path)
    assert path.stat().st_size > 1000
    with pytest.raises(ValueError, match="metrics"):
        history.plot(metrics=["auc"])


def test_plot_without_matplotlib_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    _, history = trained_history(epochs=1)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r"pip install fitcore\[plot\]"):
        history.plot()
