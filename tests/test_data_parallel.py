"""Data-parallel fit over MPI (fc.distribution.DataParallel), as a user runs it: the same script under
`mpiexec -n 2` and in one process. The two-process run must give the one-process History, metrics,
evaluate / predict results and weights to float rounding, repeat bit for bit, write files and
progress from process 0 alone, stop together, and end every process when one fails, never hang.
Each run is a child process (the test session itself never starts MPI)."""
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

pytest.importorskip("mpi4py", reason="mpi4py and mpich are in the test extra")
HERE = os.path.dirname(os.path.abspath(__file__))
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="mpiexec comes with the mpich wheel of the test extra")

SCENARIOS = ["sequential_arrays", "one_row_batches", "functional_two_outputs", "memmap_input", "per_process_streams",
             "binary_confusion_metrics"]


def _env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), OMP_NUM_THREADS="1")


def _launch(ranks, args, timeout=120, cwd=None):
    """Runs `python args...` in one process (ranks=1, no launcher) or under mpiexec -n ranks."""
    command = ([MPIEXEC, "-n", str(ranks)] if ranks > 1 else []) + [sys.executable] + args
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=_env(), cwd=cwd)


def _scenario(name, ranks, tmp_path):
    out = str(tmp_path / f"{name}.{ranks}.json")
    run = _launch(ranks, [os.path.join(HERE, "data_parallel_scenarios.py"), name, out])
    assert run.returncode == 0, run.stderr
    with open(out) as f:
        return json.load(f)


def _assert_same_run(one, two):
    assert one.keys() == two.keys()
    for key in one:
        if key == "weights":
            np.testing.assert_allclose(two[key], one[key], rtol=1e-5, atol=1e-5, err_msg=key)
        elif isinstance(one[key], dict):
            assert list(one[key]) == list(two[key]), key  # History's keys, in Keras's order
            for name in one[key]:
                np.testing.assert_allclose(two[key][name], one[key][name], rtol=1e-5, atol=1e-7, err_msg=f"{key} {name}")
        else:
            np.testing.assert_allclose(two[key], one[key], rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("name", SCENARIOS)
def test_two_processes_give_the_one_process_run(name, tmp_path):
    one, two = _scenario(name, 1, tmp_path), _scenario(name, 2, tmp_path)
    _assert_same_run(one, two)
    assert len(next(iter(one["history"].values()))) >= 2  # several epochs were compared, not an empty History


def test_two_processes_repeat_bit_for_bit(tmp_path):
    first = _scenario("sequential_arrays", 2, tmp_path)
    second = _scenario("sequential_arrays", 2, tmp_path / ".." / tmp_path.name)
    assert first == second


def _script(tmp_path, body):
    path = tmp_path / "script.py"
    path.write_text(f"REPORTS = {str(tmp_path)!r}\n" + textwrap.dedent("""
        import sys
        import numpy as np
        import fitcore as fc

        fc.distribution.set_distribution(fc.distribution.DataParallel())
        RANK = fc.distribution.distribution().data_shard_id


        def report(line):  # a file per process: mpiexec may interleave the processes' output mid-line
            with open(f"{REPORTS}/report{RANK}.txt", "a") as f:
                print(line, file=f)


        fc.utils.set_random_seed(5)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(256, 8)).astype(np.float32)
        y = (x[:, 0] > 0).astype(np.int64)
        model = fc.Sequential([fc.Input((8,)), fc.layers.Dense(8, activation="relu"),
                               fc.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    """) + textwrap.dedent(body))
    return [str(path)]


def _reports(tmp_path):
    """Each process's reported lines, process 0's first."""
    return [line for rank in (0, 1) for line in (tmp_path / f"report{rank}.txt").read_text().splitlines()]


def test_files_and_progress_come_from_process_zero_alone(tmp_path):
    # Each process names its files after itself: only process 0's may exist.
    script = _script(tmp_path, """
        callbacks = [fc.callbacks.CSVLogger(f"log{RANK}.csv"),
                     fc.callbacks.ModelCheckpoint(f"best{RANK}.weights.npz", save_weights_only=True, monitor="loss")]
        history = model.fit(x, y, batch_size=32, epochs=3, verbose=2, callbacks=callbacks)
        model.save(f"model{RANK}.fitcore")
        report(f"process {RANK} history {[round(v, 6) for v in history.history['loss']]}")
    """)
    run = _launch(2, script, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(("script", "report"))) == [
        "best0.weights.npz", "log0.csv", "model0.fitcore"]
    assert run.stdout.count("Epoch 1/3") == 1 and run.stdout.count("Epoch 3/3") == 1, run.stdout
    histories = [re.fullmatch(r"process (\d) history (\[.*\])", line).groups() for line in _reports(tmp_path)]
    assert [h[0] for h in histories] == ["0", "1"] and histories[0][1] == histories[1][1]  # History everywhere
    rows = (tmp_path / "log0.csv").read_text().splitlines()
    assert rows[0] == "epoch,accuracy,loss,val_accuracy,val_loss" and len(rows) == 4
    logged = [float(r.split(",")[2]) for r in rows[1:]]
    np.testing.assert_allclose(logged, json.loads(histories[0][1]), rtol=1e-5)


def test_stop_training_in_one_process_stops_every_process(tmp_path):
    script = _script(tmp_path, """
        class StopInProcessOne(fc.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if RANK == 1 and batch == 2:
                    self.model.stop_training = True

        history = model.fit(x, y, batch_size=32, epochs=4, verbose=0, callbacks=[StopInProcessOne()])
        report(f"process {RANK} epochs {len(history.history['loss'])} steps {model.optimizer.iterations}")
    """)
    run = _launch(2, script)
    assert run.returncode == 0, run.stderr
    assert _reports(tmp_path) == ["process 0 epochs 1 steps 3", "process 1 epochs 1 steps 3"]


def test_a_bad_argument_in_one_process_fails_every_process_before_any_step(tmp_path):
    script = _script(tmp_path, """
        try:
            model.fit(x, y, batch_size=0 if RANK == 1 else 32, epochs=2, verbose=0)
        except (ValueError, RuntimeError) as error:
            report(f"process {RANK}: {type(error).__name__}: {error} (steps {model.optimizer.iterations})")
    """)
    started = time.monotonic()
    run = _launch(2, script, timeout=60)
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - started < 60
    lines = _reports(tmp_path)
    assert len(lines) == 2, lines
    assert lines[0].startswith("process 0: RuntimeError: fit: process 1 of 2 failed, so every process stops: "
                               "ValueError: ") and "batch_size" in lines[0] and lines[0].endswith("(steps 0)")
    assert lines[1].startswith("process 1: ValueError: ") and "batch_size" in lines[1] and lines[1].endswith("(steps 0)")


def test_an_error_after_training_began_ends_every_process(tmp_path):
    script = _script(tmp_path, """
        class FailInProcessOne(fc.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if RANK == 1 and epoch == 1:
                    raise OSError("disk full in process one")

        model.fit(x, y, batch_size=32, epochs=50, verbose=0, callbacks=[FailInProcessOne()])
        print(f"process {RANK} finished")  # must never be reached by either process
    """)
    started = time.monotonic()
    run = _launch(2, script, timeout=60)
    assert time.monotonic() - started < 60
    assert run.returncode != 0
    assert "finished" not in run.stdout
    assert ("fitcore: process 1 of 2 failed with OSError: disk full in process one; ending every process"
            in run.stderr), run.stderr


def test_backup_and_restore_resumes_a_two_process_run(tmp_path):
    body = """
        backup = fc.callbacks.BackupAndRestore(sys.argv[1])

        class Interrupt(fc.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if sys.argv[2] == "interrupt" and epoch == 1:
                    raise KeyboardInterrupt

        history = model.fit(x, y, batch_size=32, epochs=4, verbose=0, callbacks=[backup, Interrupt()])
        if RANK == 0:
            print("history", [round(v, 7) for v in history.history["loss"]])
            print("weights", float(np.sum([np.sum(w ** 2) for w in model.get_weights()])))
    """
    script = _script(tmp_path, body)
    interrupted = _launch(2, script + [str(tmp_path / "backup"), "interrupt"])
    assert interrupted.returncode != 0 and "KeyboardInterrupt" in interrupted.stderr
    assert (tmp_path / "backup" / "backup.npz").exists()
    resumed = _launch(2, script + [str(tmp_path / "backup"), "resume"])
    assert resumed.returncode == 0, resumed.stderr
    whole = _launch(2, script + [str(tmp_path / "other"), "resume"])
    assert whole.returncode == 0, whole.stderr
    assert resumed.stdout == whole.stdout and "history" in whole.stdout
    assert not (tmp_path / "backup" / "backup.npz").exists()  # deleted at the end, by process 0


def test_metrics_written_in_python_are_refused_in_every_process(tmp_path):
    script = _script(tmp_path, """
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=[lambda y_true, y_pred: y_pred[:, 0]])
        try:
            model.fit(x, y, batch_size=32, verbose=0)
        except (ValueError, RuntimeError) as error:
            report(f"process {RANK}: {type(error).__name__}: {error}")
    """)
    run = _launch(2, script)
    assert run.returncode == 0, run.stderr
    message = ("fit: metrics written in Python are not supported in a data-parallel run (their state cannot be "
               "summed over the processes); use fitcore's own metrics")
    assert _reports(tmp_path) == [f"process 0: ValueError: {message}", f"process 1: ValueError: {message}"]


def test_without_a_launcher_data_parallel_is_one_process():
    import fitcore as fc

    dist = fc.distribution.DataParallel()
    assert (dist.num_processes, dist.data_shard_id, dist.distributed, dist.collective) == (1, 0, False, None)
    assert fc.distribution.list_devices() == ["cpu:0"] and fc.distribution.list_devices("cpu") == ["cpu:0"]
    previous = fc.distribution.distribution()
    try:
        fc.distribution.set_distribution(dist)
        assert fc.distribution.distribution() is dist and fc.distribution.is_chief()
    finally:
        fc.distribution.set_distribution(previous)


def test_unsupported_arguments_are_refused():
    import fitcore as fc

    with pytest.raises(ValueError, match=r"^DataParallel: `device_mesh` is not supported"):
        fc.distribution.DataParallel(device_mesh="mesh")
    with pytest.raises(ValueError, match=r"^DataParallel: `auto_shard_dataset` must be True, got False"):
        fc.distribution.DataParallel(auto_shard_dataset=False)
    with pytest.raises(ValueError, match=re.escape("DataParallel: `devices` must be None or ['cpu:0'] (one per "
                                                   "process), got ['gpu:0']")):
        fc.distribution.DataParallel(devices=["gpu:0"])
    with pytest.raises(TypeError, match=r"^set_distribution: `value` must be a fc.distribution.DataParallel or None, "
                                        r"got str$"):
        fc.distribution.set_distribution("data_parallel")
    with pytest.raises(ValueError, match=r"^list_devices: `device_type` must be None or 'cpu', got 'gpu'$"):
        fc.distribution.list_devices("gpu")


def test_the_example_prints_the_one_process_history_in_two_processes():
    example = os.path.join(os.path.dirname(HERE), "examples", "train_data_parallel.py")
    one, two = _launch(1, [example]), _launch(2, [example])
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr

    def history(stdout):
        found = dict(re.findall(r"^(\w+): ((?:\d+\.\d{4} ?){3})$", stdout, re.MULTILINE))
        return {name: [float(v) for v in values.split()] for name, values in found.items()}

    assert "processes: 1" in one.stdout and "processes: 2" in two.stdout
    assert sorted(history(one.stdout)) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history(one.stdout).keys() == history(two.stdout).keys()
    for name, values in history(one.stdout).items():
        np.testing.assert_allclose(history(two.stdout)[name], values, rtol=2e-3, err_msg=name)
    assert history(one.stdout)["val_accuracy"][-1] > 0.6  # it learned (10 classes: chance is 0.1)
    assert one.stdout.count("Epoch 1/3") == 1 and two.stdout.count("Epoch 1/3") == 1  # progress from process 0
