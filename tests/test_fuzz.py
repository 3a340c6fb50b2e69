"""Property-based fuzzing of compile / fit / evaluate / predict (the campaign is tests/fuzz_campaign.py).

The campaign runs in a child process: a segfault or a hang there fails this test with the example
that caused it, instead of killing pytest. CI runs a short derandomized campaign; the long one
(`python -m pytest -m slow tests/test_fuzz.py`) draws thousands of random examples.
"""
import json
import os
import re
import signal
import subprocess
import sys

import pytest

import fitcore as fc

CAMPAIGN = os.path.join(os.path.dirname(__file__), "fuzz_campaign.py")


def run_campaign(tmp_path, examples, seed=None, timeout=600):
    """Runs the campaign in a child; returns its counts, or fails with what the child saw."""
    log = tmp_path / "last_example.txt"
    # One thread: the campaign's arrays are far below the core's parallel grain, and idle OpenMP
    # workers spinning on a busy 2-core machine would only slow the child down.
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(fc.__file__)), os.environ.get("PYTHONPATH", "")]))
    command = [sys.executable, CAMPAIGN, "--examples", str(examples), "--log", str(log)]
    if seed is not None:
        command += ["--seed", str(seed)]
    try:
        child = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the fuzz campaign hung; last example: {log.read_text() if log.exists() else '?'}")
    last = log.read_text() if log.exists() else "?"
    if child.returncode < 0:
        pytest.fail(f"the fuzz campaign died of {signal.Signals(-child.returncode).name} on: {last}\n"
                    f"{child.stderr[-3000:]}")
    lines = child.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
    assert child.returncode == 0 and summary and not summary["failed"], (
        f"fuzz campaign failed (exit {child.returncode}); last example: {last}\n{child.stderr[-6000:]}")
    return summary["counts"]


def check_coverage(counts, examples):
    assert counts["examples"] >= examples
    for call in ("fit", "evaluate", "predict", "compile"):
        assert any(k.startswith(call) for k in counts), f"no {call} examples: {counts}"
    # The campaign reaches both sides: working calls and rejected ones.
    assert counts.get("fit:ok", 0) > examples // 20, counts
    assert counts.get("fit:ValueError", 0) + counts.get("fit:TypeError", 0) > examples // 20, counts


def test_short_campaign(tmp_path):
    examples = 1500  # about 10 s on an idle machine
    counts = run_campaign(tmp_path, examples, timeout=300)
    check_coverage(counts, examples)


@pytest.mark.slow
def test_long_campaign(tmp_path):
    examples = int(os.environ.get("FITCORE_FUZZ_EXAMPLES", "5000"))
    seed = int(os.environ.get("FITCORE_FUZZ_SEED", "20261125"))
    counts = run_campaign(tmp_path, examples, seed=seed, timeout=3 * 3600)
    check_coverage(counts, examples)
    print(json.dumps(counts))


def test_driver_reports_a_crash(tmp_path, monkeypatch):
    """The driver itself: a child that segfaults (aborts, under ASan) is reported with its signal, not fatal
    to pytest."""
    # Under tools/sanitize this deliberate crash's report goes to stderr, not to the run's report files.
    if "log_path=" in os.environ.get("ASAN_OPTIONS", ""):
        monkeypatch.setenv("ASAN_OPTIONS", re.sub(r":?log_path=[^:]*", "", os.environ["ASAN_OPTIONS"]))
    crasher = tmp_path / "crash.py"
    crasher.write_text("import ctypes\nctypes.string_at(0)\n")
    monkeypatch.setattr(sys.modules[__name__], "CAMPAIGN", str(crasher))
    with pytest.raises(pytest.fail.Exception, match="died of SIG"):
        run_campaign(tmp_path, 1, timeout=60)
