"""Progress display: the verbose=1 bar on a terminal (pty), "auto" in a pipe, verbose=2 lines,
evaluate/predict display, and view_metrics (text chart, fc.config default)."""
import os
import pty
import re
import subprocess
import sys
import time

import numpy as np
import pytest

import fitcore as fc

SCRIPT = r"""
import sys, time
import numpy as np
import fitcore as fc
rng = np.random.default_rng(0)
x = rng.normal(size=(160, 4)).astype("float32"); y = (x[:, 0] > 0).astype("int32")
fc.utils.set_random_seed(0)
model = fc.Sequential([fc.Input((4,)), fc.layers.Dense(2, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
slow = fc.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: time.sleep(float(sys.argv[1])))
model.fit(x, y, batch_size=8, epochs=2, validation_split=0.25, verbose="auto", callbacks=[slow])
model.evaluate(x, y, verbose="auto")
"""


def run_in_pty(args):
    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS="200")  # in-progress lines are cut to the terminal's width
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT] + args, stdout=slave, stderr=slave, close_fds=True,
                            env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO once the child has exited and closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait()
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_verbose_auto_on_a_terminal_redraws_a_bar_in_place():
    started = time.perf_counter()
    out = run_in_pty(["0.03"])  # 15 steps of >= 30 ms per epoch: the bar is redrawn several times
    elapsed = time.perf_counter() - started
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    epoch_text = out.split("Epoch 2/2")[0]
    redraws = len(re.findall("\r(?!\n)", epoch_text))  # the terminal itself turns "\n" into "\r\n"
    # ~0.45 s of steps, redrawn at most ~10 times a second, plus the last step and the epoch's summary
    assert 3 <= redraws <= 0.45 * 10 + 3
    assert re.search(r"\r\s*\d+/15 ━+─+ \d+s \d+ms/step - ETA: \d+s - accuracy: \d\.\d{4} - loss: \d\.\d{4}", out)
    assert re.search(r"\r15/15 ━{20} \d+s \d+ms/step - accuracy: \d\.\d{4} - loss: \d\.\d{4} - val_accuracy: "
                     r"\d\.\d{4} - val_loss: \d\.\d{4}", out)
    assert re.search(r"\r5/5 ━{20} \d+s \d+(us|ms)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}", out)  # evaluate
    assert elapsed < 30


def test_verbose_auto_in_a_pipe_writes_one_line_per_epoch_without_carriage_returns():
    out = subprocess.run([sys.executable, "-c", SCRIPT, "0"], capture_output=True, text=True, check=True).stdout
    assert "\r" not in out
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    for line in (lines[1], lines[3]):
        assert re.fullmatch(r"15/15 - \d+s - \d+(us|ms)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4} - "
                            r"val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}", line)
    assert re.fullmatch(r"5/5 - \d+s - \d+(us|ms)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}", lines[4])
    assert len(lines) == 5


def small_model():
    fc.utils.set_random_seed(0)
    model = fc.Sequential([fc.Input((3,)), fc.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.linspace(0, 1, 30, dtype="float32").reshape(10, 3)
    return model, x, x.sum(1, keepdims=True)


def test_verbose_zero_is_silent_and_predict_shows_its_bar(capsys):
    model, x, y = small_model()
    model.fit(x, y, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""
    model.predict(x, batch_size=4, verbose=2)
    assert re.fullmatch(r"3/3 - \d+s - \d+(us|ms)/step\n", capsys.readouterr().out)
    model.predict(x, batch_size=4, verbose=1)
    out = capsys.readouterr().out  # a live bar: the first step drawn at once, the final line last
    assert re.match(r"\r1/3 ━{6}─{14} \d+s \d+(us|ms)/step - ETA: \d+s", out)
    assert re.search(r"\r3/3 ━{20} \d+s \d+(us|ms)/step\n$", out) and out.count("\n") == 1


def test_view_metrics_true_in_a_terminal_draws_a_text_chart(capsys):
    model, x, y = small_model()
    model.fit(x, y, epochs=3, verbose=0, view_metrics=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.lstrip().startswith("loss") for line in lines)
    chart = lines[-1].split()[1]
    assert len(chart) == 3 and set(chart) <= set("▁▂▃▄▅▆▇█")
    assert float(lines[-1].split()[2]) == pytest.approx(model.history.history["loss"][-1], rel=1e-3)


def test_view_metrics_default_comes_from_config(capsys):
    model, x, y = small_model()
    assert fc.config.get_view_metrics() == "auto"
    try:
        fc.config.set_view_metrics(True)
        model.fit(x, y, epochs=2, verbose=0)
        assert "loss" in capsys.readouterr().out
        model.fit(x, y, epochs=2, verbose=0, view_metrics="auto")  # "auto" follows the config default
        assert "loss" in capsys.readouterr().out
        model.fit(x, y, epochs=2, verbose=0, view_metrics=False)  # True/False win
        assert capsys.readouterr().out == ""
    finally:
        fc.config.set_view_metrics("auto")
    model.fit(x, y, epochs=2, verbose=0)  # "auto" outside a notebook: no view
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="set_view_metrics"):
        fc.config.set_view_metrics("yes")
    with pytest.raises(ValueError, match="view_metrics"):
        model.fit(x, y, epochs=1, verbose=0, view_metrics=1)


def test_view_metrics_in_a_notebook_updates_one_live_figure(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import IPython.display

    from fitcore.callbacks import metrics_viewer

    shown = []

    class Handle:
        def update(self, fig):
            shown.append(("update", [len(line.get_xdata()) for ax in fig.axes for line in ax.get_lines()]))

    def display(fig, display_id=False):
        shown.append(("display", [len(line.get_xdata()) for ax in fig.axes for line in ax.get_lines()]))
        return Handle()

    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.setattr(metrics_viewer, "in_notebook", lambda: True)
    model, x, y = small_model()
    model.fit(x, y, epochs=3, verbose=2, view_metrics="auto")  # no metrics compiled: "auto" shows nothing
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(x, y, epochs=3, verbose=0, view_metrics="auto")  # verbose=0: nothing
    model.fit(x, y, epochs=1, verbose=2, view_metrics="auto")  # one epoch: nothing
    assert shown == []
    model.fit(x, y, epochs=3, validation_split=0.2, verbose=2, view_metrics="auto")
    # two panels (loss, mae), training and validation curves growing by one point per epoch
    assert shown == [("display", [1, 1, 1, 1]), ("update", [2, 2, 2, 2]), ("update", [3, 3, 3, 3])]
    shown.clear()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=2, verbose=2, view_metrics=True)  # True forces it, metrics or not
    assert shown == [("display", [1]), ("update", [2])]


LONG = r"""
import numpy as np
import fitcore as fc
rng = np.random.default_rng(0)
x = rng.normal(size=(200_000, 64)).astype("float32"); y = rng.integers(0, 10, 200_000)
fc.utils.set_random_seed(0)
model = fc.Sequential([fc.Input((64,)), fc.layers.Dense(128, activation="relu"),
                       fc.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.evaluate(x, y, batch_size=32, verbose=1)
model.predict(x, batch_size=32, verbose=1)
"""


def test_evaluate_and_predict_redraw_a_live_bar_while_they_run():
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path), COLUMNS="200")
    out = subprocess.run([sys.executable, "-c", LONG], capture_output=True, env=env, check=True).stdout.decode()
    evaluate, predict = out.split("\n")[:2]
    for frames, logs in ((evaluate.split("\r")[1:], " - accuracy: "), (predict.split("\r")[1:], "")):
        # ~0.5 s of batches each: the first chunk drawn at once, redraws every ~0.1 s, then the final line
        assert len(frames) >= 3, frames
        assert re.match(r"\s*\d+/6250 ━*─+ \d+s \d+(us|ms)/step - ETA: \d+s" + logs, frames[0])
        assert re.match(r"6250/6250 ━{20} \d+s \d+(us|ms)/step" + logs, frames[-1])
        done = [int(f.split("/")[0]) for f in frames]
        assert done == sorted(done) and done[0] < 6250
