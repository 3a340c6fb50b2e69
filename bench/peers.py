"""BENCHMARKS.md's reference workload: fitcore beside PyTorch, Keras/JAX, Keras/torch and scikit-learn.

Every run is its own process and the peers alternate within each repetition, so drift on a shared
machine hits them alike; the table shows medians. Usage (see bench/README.md):

    python bench/peers.py            # 3 repetitions, every peer, scaling / linearity / memory
    python bench/peers.py --quick    # 1 repetition, fitcore and Keras/JAX only, no extras
    python bench/peers.py --reps 5 --batch-sizes 32 256 --peers fitcore torch
    python bench/peers.py --matrix   # activations x batch x width x dropout x optimizer, vs Keras/JAX and PyTorch
    python bench/peers.py --matrix --reps 2 --variant native=/tmp/native   # best of 2 rounds, a native build beside
    python bench/peers.py --matrix --quick   # 4 cells, fewer samples (CI's smoke test)
"""
import argparse
import importlib.util
import itertools
import math
import json
import os
import statistics
import subprocess
import sys
import time

SAMPLES = 30000
FEATURES, HIDDEN, CLASSES = 784, 256, 10
# Forward, weight gradients, and input gradients except into the input layer (BENCHMARKS.md).
FLOP_PER_SAMPLE = 2 * (2 * FEATURES * HIDDEN + 3 * HIDDEN * HIDDEN + 3 * HIDDEN * CLASSES)
assert FLOP_PER_SAMPLE == 1_211_392

# name -> (modules it needs, environment it runs with)
PEERS = {
    "fitcore": (["fitcore"], {}),
    "torch": (["torch"], {}),
    "keras-jax": (["keras", "jax"], {"KERAS_BACKEND": "jax"}),
    "keras-torch": (["keras", "torch"], {"KERAS_BACKEND": "torch"}),
    "sklearn": (["sklearn"], {}),
}
QUICK_PEERS = ["fitcore", "keras-jax"]
HERE = os.path.dirname(os.path.abspath(__file__))


# --- workers: each runs in its own process and prints one JSON line ----------------------------
def reference_data(samples):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((samples, FEATURES), dtype=np.float32)
    w = rng.standard_normal((FEATURES, CLASSES))
    return x, np.argmax(x @ w, axis=1)


def keras_like_fit(api, x, y, batch_size):
    """fitcore and Keras share the API: one warm-up epoch, then the timed one."""
    model = api.Sequential([api.Input((FEATURES,)), api.layers.Dense(HIDDEN, activation="relu"),
                            api.layers.Dense(HIDDEN, activation="relu"),
                            api.layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer=api.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    return time.perf_counter() - start


def torch_fit(x, y, batch_size):
    """An ordinary eager loop: randperm, index, zero_grad, forward, backward, step."""
    import torch

    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, HIDDEN),
                                torch.nn.ReLU(), torch.nn.Linear(HIDDEN, CLASSES))
    for layer in model:
        if isinstance(layer, torch.nn.Linear):  # glorot_uniform weights, zero biases, as Keras
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()  # softmax + sparse categorical crossentropy
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def epoch():
        correct = 0
        for idx in torch.randperm(len(xt)).split(batch_size):
            xb, yb = xt[idx], yt[idx]
            optimizer.zero_grad()
            logits = model(xb)
            loss_fn(logits, yb).backward()
            optimizer.step()
            correct += int((logits.argmax(1) == yb).sum())  # the accuracy metric Keras tracks
        return correct

    epoch()
    start = time.perf_counter()
    epoch()
    return time.perf_counter() - start


def sklearn_fit(x, y, batch_size):
    """MLPClassifier(adam), one partial_fit pass warm, one timed."""
    import numpy as np
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(HIDDEN, HIDDEN), solver="adam", batch_size=batch_size,
                          learning_rate_init=1e-3, random_state=0)
    model.partial_fit(x, y, classes=np.arange(CLASSES))
    start = time.perf_counter()
    model.partial_fit(x, y)
    return time.perf_counter() - start


def peak_rss_bytes():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


def reset_peak_rss():
    """Peak RSS from here on (Linux: writing 5 to clear_refs resets VmHWM)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def run_peer(peer, batch_size, samples, threads):
    if threads:
        os.environ["OMP_NUM_THREADS"] = str(threads)
    x, y = reference_data(samples)
    if peer == "fitcore":
        import fitcore as api

        if threads:
            api.config.set_num_threads(threads)
        reset_peak_rss()
        before = peak_rss_bytes()
        seconds = keras_like_fit(api, x, y, batch_size)
        return {"seconds": seconds, "fit_peak_rss": peak_rss_bytes() - before, "data_bytes": x.nbytes + y.nbytes}
    if peer in ("keras-jax", "keras-torch"):
        import keras as api

        return {"seconds": keras_like_fit(api, x, y, batch_size)}
    if peer == "torch":
        return {"seconds": torch_fit(x, y, batch_size)}
    if peer == "sklearn":
        return {"seconds": sklearn_fit(x, y, batch_size)}
    raise ValueError(f"unknown peer {peer!r}")


def run_sgemm(rows):
    """numpy's float32 GEMM at the first layer's shapes: (rows x 784) @ (784 x 256), GFLOP/s."""
    import numpy as np

    rng = np.random.default_rng(1)
    a = rng.random((rows, FEATURES), dtype=np.float32)
    b = rng.random((FEATURES, HIDDEN), dtype=np.float32)
    out = np.empty((rows, HIDDEN), dtype=np.float32)
    calls = max(20, 200_000 // rows)
    rates = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            np.matmul(a, b, out=out)
        rates.append(2.0 * rows * FEATURES * HIDDEN * calls / (time.perf_counter() - start) / 1e9)
    kernel = ""
    try:
        from threadpoolctl import threadpool_info

        kernel = ", ".join(f"{i.get('internal_api')} {i.get('architecture')} x{i.get('num_threads')}"
                           for i in threadpool_info() if i.get("user_api") == "blas")
    except ImportError:
        pass
    return {"gflops": statistics.median(rates), "kernel": kernel}



# --- the matrix (issue 12): elementwise-heavy MLPs beside Keras/JAX and PyTorch --------------------
MATRIX_FEATURES = 128
MATRIX_ACTIVATIONS = ("relu", "gelu", "tanh", "sigmoid", "silu")
MATRIX_BATCHES = (32, 256, 2048)
MATRIX_WIDTHS = (256, 1024)
MATRIX_OPTIMIZERS = ("adam", "sgdm")
MATRIX_DROPOUT = 0.2
MATRIX_SAMPLES = 16384
# Each cell's timed epochs run until they add up to this many seconds (one epoch at least, at most
# MATRIX_MAX_EPOCHS), and the cell's figure is their median: a batch-2048 epoch is 8 steps, ~70 ms,
# and one such epoch alone read 144k, 226k and 165k samples/s in three runs of the same cell.
MATRIX_CELL_SECONDS = 0.5
MATRIX_MAX_EPOCHS = 100
QUICK_CELL_SECONDS = 0.1
# --quick: CI's smoke test of the whole path (every peer process, the peak probe, the table).
QUICK_CELLS = [("relu", 256, 256, False, "adam"), ("gelu", 256, 256, True, "sgdm")]
QUICK_SAMPLES = 4096
MATRIX_PEERS = ["fitcore", "keras-jax", "torch"]
# --one-core: every framework on one pinned core with one thread, timed in process CPU seconds, so
# other load on a shared machine changes the figures little (the lead's wall-clock runs still rule).
ONE_CORE_ENV = {"FITCORE_BENCH_ONE_CORE": "1", "OMP_NUM_THREADS": "1",
                "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}


def one_core():
    return os.environ.get("FITCORE_BENCH_ONE_CORE") == "1"


def clock():
    return time.process_time() if one_core() else time.perf_counter()


def matrix_cells(quick, activations=None, batches=None, widths=None):
    """The cells to run: the whole matrix, a subset of its axes, or --quick's two cells."""
    if quick:
        return list(QUICK_CELLS)
    return [(a, b, w, d, o) for a, b, w, d, o in itertools.product(
        activations or MATRIX_ACTIVATIONS, batches or MATRIX_BATCHES, widths or MATRIX_WIDTHS, (False, True),
        MATRIX_OPTIMIZERS)]


def cell_name(cell):
    activation, batch, width, dropout, optimizer = cell
    return f"{activation}:{batch}:{width}:{int(dropout)}:{optimizer}"


def parse_cell(name):
    activation, batch, width, dropout, optimizer = name.split(":")
    return activation, int(batch), int(width), dropout == "1", optimizer


def matrix_flop_per_sample(width):
    """Input -> width -> width -> 1: forward, weight gradients, input gradients but the first layer's."""
    layers = [(MATRIX_FEATURES, width), (width, width), (width, 1)]
    forward = sum(2 * i * o for i, o in layers)
    return 2 * forward + sum(2 * i * o for i, o in layers[1:])


def matrix_data(samples):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((samples, MATRIX_FEATURES), dtype=np.float32)
    y = (np.sin(x[:, :8]).sum(axis=1, keepdims=True) * 0.5).astype(np.float32)
    return x, y


def epoch_timer(api, seconds):
    """A callback (fitcore's or Keras's) that times each epoch and stops the fit once the timed
    epochs add up to `seconds`. Epoch hooks only, so Keras keeps its asynchronous batch dispatch;
    its on_epoch_end waits for the epoch's steps."""
    class EpochTimer(api.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = clock()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(clock() - self.start)
            if sum(self.seconds) >= seconds:
                self.model.stop_training = True

    return EpochTimer()


def keras_like_cell(api, cell, x, y, seconds):
    """Two hidden layers of the cell's width and activation (each followed by Dropout when asked),
    one linear output, MSE; one warm-up epoch, then epochs timed for `seconds`: their times."""
    activation, batch, width, dropout, optimizer = cell
    layers = [api.Input((MATRIX_FEATURES,))]
    for _ in range(2):
        layers.append(api.layers.Dense(width, activation=activation))
        if dropout:
            layers.append(api.layers.Dropout(MATRIX_DROPOUT))
    layers.append(api.layers.Dense(1))
    model = api.Sequential(layers)
    opt = api.optimizers.Adam(1e-3) if optimizer == "adam" else api.optimizers.SGD(0.01, momentum=0.9)
    model.compile(optimizer=opt, loss="mse")
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    timer = epoch_timer(api, seconds)
    model.fit(x, y, batch_size=batch, epochs=MATRIX_MAX_EPOCHS, verbose=0, callbacks=[timer])
    return timer.seconds


def torch_cell(cell, x, y, seconds):
    """The same model as an ordinary eager loop (randperm, index, zero_grad, forward, backward, step)."""
    import torch

    activation, batch, width, dropout, optimizer = cell
    torch.set_num_threads(1 if one_core() else os.cpu_count())
    torch.manual_seed(0)
    act = {"relu": torch.nn.ReLU, "gelu": torch.nn.GELU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
           "silu": torch.nn.SiLU}[activation]
    layers, fan_in = [], MATRIX_FEATURES
    for _ in range(2):
        layers += [torch.nn.Linear(fan_in, width), act()]
        if dropout:
            layers.append(torch.nn.Dropout(MATRIX_DROPOUT))
        fan_in = width
    layers.append(torch.nn.Linear(width, 1))
    model = torch.nn.Sequential(*layers)
    params = model.parameters()
    opt = (torch.optim.Adam(params, lr=1e-3, eps=1e-7) if optimizer == "adam"
           else torch.optim.SGD(params, lr=0.01, momentum=0.9))
    loss_fn = torch.nn.MSELoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def epoch():
        for idx in torch.randperm(len(xt)).split(batch):
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()

    epoch()
    times = []
    while sum(times) < seconds and len(times) < MATRIX_MAX_EPOCHS:
        start = clock()
        epoch()
        times.append(clock() - start)
    return times


def run_matrix_worker(peer, cells, samples, seconds):
    """One framework's cells in one process: {cell name: samples per second of the median timed epoch}."""
    x, y = matrix_data(samples)
    if one_core():
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if peer == "fitcore":
        import fitcore as api
    elif peer == "keras-jax":
        import keras as api
    out = {}
    for name in cells.split(","):
        cell = parse_cell(name)
        times = torch_cell(cell, x, y, seconds) if peer == "torch" else keras_like_cell(api, cell, x, y, seconds)
        out[name] = samples / statistics.median(times)
    return out


def run_peak_worker():
    """The FMA peak at the CPU's widest level (fitcore's multiply-add loop), all cores, and what the CPU is."""
    from fitcore import _core

    isa = _core.supported_isa()
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    threads = 1 if one_core() else os.cpu_count()
    return {"isa": isa, "cpu": model, "threads": threads, "gflops": _core.fma_peak_gflops(isa, threads, 1.0)}


def geometric_mean(values):
    values = [v for v in values if v and v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def matrix_rows(cells, rates, peak_gflops):
    """Per cell: fitcore's samples/s, each peer's, fitcore over each peer and over the faster of
    them, and fitcore's fraction of the FMA peak."""
    rows = []
    for cell in cells:
        name = cell_name(cell)
        fc = rates.get("fitcore", {}).get(name)
        peers = {p: rates[p].get(name) for p in rates if p != "fitcore"}
        ratios = {p: fc / r for p, r in peers.items() if fc and r}
        best = max((r for p, r in peers.items() if r and not p.startswith("fitcore")), default=None)
        flop = matrix_flop_per_sample(cell[2])
        rows.append({"cell": cell, "fitcore": fc, "peers": peers, "ratios": ratios,
                     "vs_best": fc / best if fc and best else None,
                     "peak_fraction": fc * flop / (peak_gflops * 1e9) if fc and peak_gflops else None})
    return rows


def print_matrix(rows, peak, samples, single_core=False, rounds=1, seconds=MATRIX_CELL_SECONDS):
    timed = f"the median of epochs timed for {seconds:g} s"
    if rounds > 1:
        timed += f", best of {rounds} rounds"
    print(f"\nMatrix: {MATRIX_FEATURES}->W->W->1 MLP, MSE, {samples} samples, one warm-up epoch then {timed}; "
          f"dropout {MATRIX_DROPOUT} after each hidden layer where d=1")
    if single_core:
        print("--one-core: every framework on one pinned core, one thread, samples per CPU-second")
    print(f"CPU: {peak['cpu']}, {peak['threads']} threads, widest ISA {peak['isa']}; "
          f"FMA peak {peak['gflops']:.0f} GFLOP/s ({peak['isa']}, {peak['threads']} thread(s), "
          f"fitcore._core.fma_peak_gflops)")
    peers = sorted({p for r in rows for p in r["peers"]})
    width = {p: max(12, len(p) + 3) for p in peers}  # room for labels like fitcore[portable]
    header = f"{'act':<8}{'batch':>6}{'width':>6}{'d':>2} {'opt':<5}{'fitcore':>9}"
    header += "".join(f"{p:>{width[p]}}" for p in peers) + "".join(f"{'/' + p:>{width[p]}}" for p in peers)
    print(header + f"{'/best':>7}{'%peak':>7}")
    for r in rows:
        a, b, w, d, o = r["cell"]
        line = f"{a:<8}{b:>6}{w:>6}{int(d):>2} {o:<5}"
        line += fmt_rate(r["fitcore"]) + " " if r["fitcore"] else f"{'failed':>9}"
        line += "".join(f"{fmt_rate(r['peers'][p]):>{width[p]}}" if r["peers"].get(p) else f"{'-':>{width[p]}}"
                        for p in peers)
        line += "".join(f"{r['ratios'][p]:{width[p] - 1}.2f}x" if p in r["ratios"] else f"{'-':>{width[p]}}"
                        for p in peers)
        line += f"{r['vs_best']:6.2f}x" if r["vs_best"] else f"{'-':>7}"
        line += f"{100 * r['peak_fraction']:6.1f}%" if r["peak_fraction"] else f"{'-':>7}"
        print(line)
    for p in peers:
        print(f"geometric mean fitcore/{p}: {geometric_mean([r['ratios'].get(p) for r in rows]):.2f}x")
    best = [r["vs_best"] for r in rows if r["vs_best"]]
    if best:
        print(f"cells at >= 1.0x the faster peer: {sum(v >= 1.0 for v in best)}/{len(best)} "
              f"(lowest {min(best):.2f}x)")

# --- the driver ---------------------------------------------------------------------------------
def worker_cmd(*args):
    return [sys.executable, os.path.abspath(__file__), "--worker", *map(str, args)]


def spawn(args, env_extra=None, drop=()):
    env = dict(os.environ)
    env.update(env_extra or {})
    for key in drop:
        env.pop(key, None)
    run = subprocess.run(worker_cmd(*args), capture_output=True, text=True, env=env)
    if run.returncode != 0:
        tail = run.stderr.strip().splitlines()[-1:] or ["no output"]
        print(f"  {' '.join(map(str, args))}: failed ({tail[0]})", file=sys.stderr)
        return None
    return json.loads(run.stdout.strip().splitlines()[-1])


def installed(peer):
    missing = [m for m in PEERS[peer][0] if importlib.util.find_spec(m) is None]
    if missing:
        print(f"{peer}: skipped, {', '.join(missing)} not installed (pip install '.[bench]')")
    return not missing


def sgemm_rate(rows):
    # OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE pin old kernels on some machines: unset for this probe only.
    result = spawn(["sgemm", rows], drop=("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"))
    return result or {"gflops": float("nan"), "kernel": "failed"}


def fmt_rate(r):
    return f"{r / 1000:7.1f}k"


def peer_table(peers, batch_sizes, reps):
    rates = {(p, b): [] for p in peers for b in batch_sizes}
    sgemm = {b: [] for b in batch_sizes}
    kernels = set()
    for rep in range(reps):
        for b in batch_sizes:
            probe = sgemm_rate(b)
            sgemm[b].append(probe["gflops"])
            kernels.add(probe["kernel"])
            for p in peers:
                result = spawn(["peer", p, b, SAMPLES, 0], env_extra=PEERS[p][1])
                if result:
                    rates[(p, b)].append(SAMPLES / result["seconds"])
        print(f"  repetition {rep + 1}/{reps} done", file=sys.stderr)

    print(f"\nReference workload ({SAMPLES} samples, {FLOP_PER_SAMPLE:,} FLOP/sample), median of {reps} run(s), "
          f"{os.cpu_count()} cores; numpy sgemm: {'; '.join(sorted(k for k in kernels if k)) or 'kernel unknown'}")
    print(f"{'batch':>5}  {'peer':<12} {'samples/s':>10} {'GFLOP/s':>8} {'% sgemm':>8} {'fitcore/peer':>13}")
    for b in batch_sizes:
        ceiling = statistics.median(sgemm[b])
        print(f"{b:>5}  {'sgemm@' + str(b):<12} {fmt_rate(ceiling * 1e9 / FLOP_PER_SAMPLE):>10} "
              f"{ceiling:8.1f} {100.0:7.0f}% {'':>13}")
        fc = statistics.median(rates[("fitcore", b)]) if rates.get(("fitcore", b)) else None
        for p in peers:
            if not rates[(p, b)]:
                continue
            r = statistics.median(rates[(p, b)])
            gflops = r * FLOP_PER_SAMPLE / 1e9
            ratio = f"{fc / r:12.2f}x" if fc and p != "fitcore" else ""
            print(f"{b:>5}  {p:<12} {fmt_rate(r):>10} {gflops:8.1f} {100 * gflops / ceiling:7.0f}% {ratio:>13}")


def extras(reps):
    def median_of(args):
        runs = [spawn(args) for _ in range(reps)]
        runs = [r for r in runs if r]
        return runs, statistics.median(r["seconds"] for r in runs) if runs else float("nan")

    print("\nfitcore scaling, batch 256 (median epoch seconds)")
    _, one = median_of(["peer", "fitcore", 256, SAMPLES, 1])
    _, two = median_of(["peer", "fitcore", 256, SAMPLES, 2])
    print(f"  1 thread {one:.3f} s, 2 threads {two:.3f} s: 2 threads are {one / two:.2f}x faster (target >= 1.7x)")

    print("\nfitcore beside one busy process (another program keeping a core busy), median epoch seconds")
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        for b in (32, 256):
            _, one = median_of(["peer", "fitcore", b, SAMPLES, 1])
            _, every = median_of(["peer", "fitcore", b, SAMPLES, 0])
            print(f"  batch {b}: 1 thread {one:.3f} s, all threads {every:.3f} s: {one / every:.2f}x "
                  f"(the core falls back to one thread while two lose: >= 0.9x)")
    finally:
        busy.kill()
        busy.wait()

    print("\nfitcore epoch time vs samples, batch 32 and 256 (linear: 30k takes 2.00x the time of 15k)")
    memory = []
    for b in (32, 256):
        half_runs, half = median_of(["peer", "fitcore", b, SAMPLES // 2, 0])
        full_runs, full = median_of(["peer", "fitcore", b, SAMPLES, 0])
        print(f"  batch {b}: 15k {half:.3f} s, 30k {full:.3f} s, ratio {full / half:.2f}")
        memory += [(b, SAMPLES // 2, half_runs), (b, SAMPLES, full_runs)]

    print("\nfitcore peak memory during fit (peak RSS above the process before compile/fit)")
    for b, n, runs in memory:
        if runs:
            peak = max(r["fit_peak_rss"] for r in runs)
            print(f"  batch {b:>3}, {n:>5} samples: data {runs[0]['data_bytes'] / 2**20:6.1f} MiB, "
                  f"fit's peak RSS growth {peak / 2**20:6.1f} MiB")


def matrix(peers, cells, samples, variants, single_core=False, rounds=1, seconds=MATRIX_CELL_SECONDS):
    """Runs the matrix: per activation, each framework in its own process over that activation's
    cells (frameworks alternate, so drift on a shared machine hits them alike); with several rounds,
    each cell's best rate of the rounds, so one framework's unlucky minute does not decide a cell."""
    common = ONE_CORE_ENV if single_core else {}
    peak = spawn(["peak"], env_extra=common) or {"isa": "?", "cpu": "?", "threads": 0, "gflops": float("nan")}
    runs = [(p, {**PEERS[p][1], **common}) for p in peers]
    for label, path in variants:  # another fitcore build, e.g. a portable one, as its own column
        runs.append((f"fitcore[{label}]", {**common, "PYTHONPATH": os.pathsep.join(
            filter(None, [path, os.environ.get("PYTHONPATH")]))}))
    rates = {label: {} for label, _ in runs}
    for round_ in range(rounds):
        for activation in dict.fromkeys(c[0] for c in cells):
            group = ",".join(cell_name(c) for c in cells if c[0] == activation)
            for label, env in runs:
                peer = "fitcore" if label.startswith("fitcore") else label
                for name, rate in (spawn(["matrix", peer, group, samples, seconds], env_extra=env) or {}).items():
                    rates[label][name] = max(rate, rates[label].get(name, 0.0))
            which = f" (round {round_ + 1}/{rounds})" if rounds > 1 else ""
            print(f"  {activation} done{which}", file=sys.stderr)
    print_matrix(matrix_rows(cells, rates, peak["gflops"]), peak, samples, single_core, rounds, seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 repetition, fitcore and Keras/JAX, no extras")
    parser.add_argument("--reps", type=int,
                        help="repetitions (default 3, or 1 with --quick); with --matrix: rounds, each cell's "
                             "best rate kept (default 1)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", help="default 32 256 (with --matrix: 32 256 2048)")
    parser.add_argument("--peers", nargs="+", choices=list(PEERS), help="default: all (fitcore + keras-jax with --quick)")
    parser.add_argument("--no-extras", action="store_true", help="skip threads, linearity and memory")
    parser.add_argument("--matrix", action="store_true",
                        help="the activation x batch x width x dropout x optimizer matrix vs Keras/JAX and PyTorch")
    parser.add_argument("--activations", nargs="+", choices=MATRIX_ACTIVATIONS, help="--matrix: a subset")
    parser.add_argument("--widths", type=int, nargs="+", help="--matrix: a subset of 256 1024")
    parser.add_argument("--samples", type=int, help=f"--matrix: samples per epoch (default {MATRIX_SAMPLES})")
    parser.add_argument("--cell-seconds", type=float,
                        help=f"--matrix: time each cell's epochs for this long, the median counts "
                             f"(default {MATRIX_CELL_SECONDS:g}, {QUICK_CELL_SECONDS:g} with --quick)")
    parser.add_argument("--one-core", action="store_true",
                        help="--matrix: one pinned core and one thread everywhere, timed in CPU seconds")
    parser.add_argument("--variant", action="append", default=[], metavar="LABEL=PYTHONPATH",
                        help="--matrix: also run the fitcore found on PYTHONPATH (e.g. a portable build) as a column")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "sgemm":
            result = run_sgemm(int(rest[0]))
        elif kind == "matrix":
            result = run_matrix_worker(rest[0], rest[1], int(rest[2]), float(rest[3]))
        elif kind == "peak":
            result = run_peak_worker()
        else:
            peer, batch, samples, threads = rest[0], *map(int, rest[1:])
            result = run_peer(peer, batch, samples, threads)
        print(json.dumps(result))
        return
    if "fitcore" in (args.peers or ["fitcore"]) and importlib.util.find_spec("fitcore") is None:
        sys.path.insert(0, os.path.join(HERE, "..", "python"))  # a source tree built with tools/dev-build
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [sys.path[0], os.environ.get("PYTHONPATH")]))
    if args.matrix:
        wanted = [p for p in (args.peers or MATRIX_PEERS) if p in MATRIX_PEERS]
        if "fitcore" not in wanted:
            wanted = ["fitcore", *wanted]
        cells = matrix_cells(args.quick, args.activations, args.batch_sizes, args.widths)
        samples = args.samples or (QUICK_SAMPLES if args.quick else MATRIX_SAMPLES)
        matrix([p for p in wanted if installed(p)], cells, samples, [v.split("=", 1) for v in args.variant],
               args.one_core, args.reps or 1,
               args.cell_seconds or (QUICK_CELL_SECONDS if args.quick else MATRIX_CELL_SECONDS))
        return
    reps = args.reps or (1 if args.quick else 3)
    requested = args.peers or (QUICK_PEERS if args.quick else list(PEERS))
    if "fitcore" not in requested:
        requested = ["fitcore", *requested]
    peers = [p for p in requested if installed(p)]
    peer_table(peers, args.batch_sizes or [32, 256], reps)
    if not (args.quick or args.no_extras) and "fitcore" in peers:
        extras(reps)


if __name__ == "__main__":
    main()
