"""The README's main job, examples/train_digits.py, runs end to end (a few epochs): it exits 0,
reports its validation accuracy and writes the History plot as a real PNG where it says it did."""
import os
import re
import subprocess
import sys

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "train_digits.py")


def test_train_digits_runs_and_saves_its_history_plot(tmp_path):
    png = tmp_path / "history.png"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path), MPLBACKEND="Agg")
    run = subprocess.run([sys.executable, SCRIPT, str(png), "--epochs", "3"], capture_output=True, text=True,
                         env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    assert f"history plot saved to {png}\n" in run.stdout
    accuracy = float(re.search(r"final validation accuracy: (\d\.\d{4})", run.stdout).group(1))
    assert accuracy > 0.5  # 10 classes: chance is 0.1; three epochs already learn
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 1024
