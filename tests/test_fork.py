"""Forks after a multi-threaded fit (issue 11, row 4): the child's predict and fit hung forever,
waiting for OpenMP pool threads that exist only in the parent. A pthread_atfork child handler now
makes such a child run the core on one thread. Each case runs in its own interpreter with a timeout,
so a hang fails the test instead of stopping the suite."""
import os
import subprocess
import sys
import textwrap

import pytest

import fitcore as fc

HERE = os.path.dirname(os.path.abspath(__file__))
# Where the fitcore this test imports lives (the source tree's python/ in development, site-packages
# when installed as CI does): the child processes must import the same one.
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(fc.__file__)))

# A model big enough that fit and predict run OpenMP teams on two threads.
SETUP = """
    import os, multiprocessing, numpy as np, fitcore as fc
    fc.config.set_num_threads(2)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2048, 256)).astype(np.float32); y = rng.normal(size=(2048, 512)).astype(np.float32)
    m = fc.Sequential([fc.Input((256,)), fc.layers.Dense(512)])
    m.compile("sgd", "mse")
    m.fit(x, y, batch_size=256, epochs=1, verbose=0)
    want = m.predict(x, batch_size=512, verbose=0)
"""


def run_script(code, timeout=120):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(SETUP) + textwrap.dedent(code)],
                              capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung for {timeout} s")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_os_fork_child_predicts_and_fits_after_a_threaded_fit():
    out = run_script("""
        pid = os.fork()
        if pid == 0:
            ok = np.array_equal(m.predict(x, batch_size=512, verbose=0), want)  # results never depend on threads
            loss = m.fit(x, y, batch_size=256, epochs=1, verbose=0).history["loss"][0]
            print("child", ok, np.isfinite(loss), fc.config.get_num_threads(), flush=True)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        print("parent", status, np.array_equal(m.predict(x, batch_size=512, verbose=0), want),
              fc.config.get_num_threads())
    """)
    assert out.splitlines() == ["child True True 1", "parent 0 True 2"], out


def test_fork_method_pool_workers_predict():
    out = run_script("""
        def work(i):
            return float(np.abs(m.predict(x[i * 256:(i + 1) * 256], verbose=0) - want[i * 256:(i + 1) * 256]).max())

        with multiprocessing.get_context("fork").Pool(2) as pool:
            print(pool.map(work, range(4), chunksize=1))
    """)
    assert out.strip() == "[0.0, 0.0, 0.0, 0.0]", out


def test_more_threads_in_a_forked_child_is_a_clear_error():
    out = run_script("""
        pid = os.fork()
        if pid == 0:
            try:
                fc.config.set_num_threads(2)
            except RuntimeError as e:
                print(e, flush=True)
            fc.config.set_num_threads(1)
            os._exit(0)
        os.waitpid(pid, 0)
    """)
    assert out.strip() == ("set_num_threads: this process was forked after the core ran threads, and OpenMP's thread "
                           "pool does not survive fork(); the core runs on one thread here"), out
