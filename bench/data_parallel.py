"""Data-parallel fit over MPI on this machine, and its scaling on paper (issue "Past one machine").

    python bench/data_parallel.py            # 3 repetitions
    python bench/data_parallel.py --reps 1

Runs BENCHMARKS.md's reference workload (MLP 784-256-256-10, Adam, sparse categorical
crossentropy + accuracy, 30,000 samples, one warm-up epoch then one timed epoch) at a global batch
of 256 as 1 process x 1 thread, 2 processes x 1 thread (`mpiexec -n 2`) and 1 process x 2 threads,
each configuration in fresh processes, alternating within every repetition; prints the medians and
the speed-up of each over 1 x 1.

Then measures the core's allreduce (MPI_Allreduce over shared memory between the 2 processes) for
message sizes from 4 KiB to 16 MiB, fits t(bytes) = latency + bytes / bandwidth, and prints
"scaling on paper": the bytes allreduced per step, and steps/s against the number of processes for
1, 10 and 100 Gb/s links, from the measured one-process step time (split evenly over K processes)
plus a ring allreduce over the link (2 (K - 1) / K of the gradient bytes each way, 2 (K - 1)
latencies). The link latencies are assumptions, printed with the table.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

SAMPLES, FEATURES, HIDDEN, CLASSES, BATCH = 30000, 784, 256, 10, 256
HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = [("1 process x 1 thread", 1, 1), ("2 processes x 1 thread", 2, 1), ("1 process x 2 threads", 1, 2)]
# Assumed per-message latencies of the links (one hop): typical of Ethernet and of RDMA fabrics.
LINKS = [("1 Gb/s", 1e9, 50e-6), ("10 Gb/s", 10e9, 20e-6), ("100 Gb/s", 100e9, 3e-6)]


def _python_path():
    """fitcore from the source tree's python/ when it is not installed (after tools/dev-build)."""
    try:
        import fitcore  # noqa: F401

        return os.pathsep.join(sys.path)
    except ImportError:
        return os.pathsep.join([os.path.join(os.path.dirname(HERE), "python")] + sys.path)


def _mpiexec():
    return shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))


def _launch(processes, threads, mode):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONPATH=_python_path())
    command = ([_mpiexec(), "-n", str(processes)] if processes > 1 else []) + [sys.executable, __file__,
                                                                               "--worker", mode]
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    if run.returncode != 0:
        raise RuntimeError(f"{mode} with {processes} process(es) failed:\n{run.stderr}")
    return json.loads(run.stdout.strip().splitlines()[-1])


# --- workers ---------------------------------------------------------------------------------
def fit_worker():
    import numpy as np

    import fitcore as fc

    fc.distribution.set_distribution(fc.distribution.DataParallel())
    dist = fc.distribution.distribution()
    rng = np.random.default_rng(0)
    x = rng.random((SAMPLES, FEATURES), dtype=np.float32)
    y = np.argmax(x @ rng.standard_normal((FEATURES, CLASSES)), axis=1)
    model = fc.Sequential([fc.Input((FEATURES,)), fc.layers.Dense(HIDDEN, activation="relu"),
                           fc.layers.Dense(HIDDEN, activation="relu"), fc.layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer=fc.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    seconds = dist.broadcast(time.perf_counter() - start)  # process 0's clock
    if dist.is_chief:
        print(json.dumps({"samples_per_s": SAMPLES / seconds, "params": int(model.count_params()),
                          "isa": fc.config.get_isa()}))


def allreduce_worker():
    import numpy as np

    from fitcore.distribution.mpi import world_collective

    world = world_collective()
    times = {}
    for size in [1 << k for k in range(12, 25, 2)]:  # 4 KiB .. 16 MiB
        data = np.ones(size // 4, np.float32)
        runs = []
        for _ in range(7 if size < (1 << 22) else 3):
            world.sum(np.zeros(1, np.float32))  # line the processes up
            start = time.perf_counter()
            for _ in range(20):
                world.sum(data)
            runs.append((time.perf_counter() - start) / 20)
        times[size] = statistics.median(runs)
    if world.rank == 0:
        print(json.dumps(times))


# --- the report --------------------------------------------------------------------------------
def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown CPU"


def fit_line(times):
    """Least squares t = latency + bytes / bandwidth over messages up to 4 MiB (a gradient's range;
    larger ones leave the caches and follow another line)."""
    times = {b: t for b, t in times.items() if b <= 4 << 20}
    xs, ys = [float(b) for b in times], list(times.values())
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return max(my - slope * mx, 0.0), 1.0 / slope


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "fit":
        return fit_worker()
    if args.worker == "allreduce":
        return allreduce_worker()
    if _mpiexec() is None:
        sys.exit('bench/data_parallel.py needs mpiexec: pip install "fitcore[mpi]"')
    results = {label: [] for label, _, _ in CONFIGS}
    for rep in range(args.reps):
        for label, processes, threads in CONFIGS:
            out = _launch(processes, threads, "fit")
            results[label].append(out["samples_per_s"])
        print(f"  repetition {rep + 1}/{args.reps} done", file=sys.stderr)
    params = out["params"]
    print(f"Data-parallel fit, reference workload, global batch {BATCH}, {os.cpu_count()} cores, "
          f"{_cpu_model()}, kernels at {out['isa']}; median of {args.reps}")
    base = statistics.median(results[CONFIGS[0][0]])
    print(f"{'configuration':<26}{'samples/s':>12}{'vs 1x1':>9}")
    for label, _, _ in CONFIGS:
        value = statistics.median(results[label])
        print(f"{label:<26}{value:>12,.0f}{value / base:>8.2f}x")
    print("target: 2 processes x 1 thread >= 1.80x 1 process x 1 thread")

    times = {int(k): v for k, v in _launch(2, 1, "allreduce").items()}
    latency, bandwidth = fit_line(times)
    grad_bytes = 4 * params
    print(f"\nAllreduce between 2 processes (shared memory), the core's MPI_Allreduce, per call:")
    for size, seconds in times.items():
        print(f"  {size / 1024:>8,.0f} KiB  {seconds * 1e6:>9,.1f} us  {size / seconds / 1e9:>6.2f} GB/s")
    print(f"  fit: {latency * 1e6:.1f} us + bytes / {bandwidth / 1e9:.2f} GB/s")

    step = BATCH / base  # seconds per step on one process, one thread
    print(f"\nScaling on paper: {params:,} parameters -> {grad_bytes / 2**20:.2f} MiB allreduced per step; "
          f"one process x 1 thread: {step * 1e3:.2f} ms per step of {BATCH}.")
    print("Steps/s = 1 / (step time / K + ring allreduce over the link); link latencies assumed: "
          + ", ".join(f"{name} {lat * 1e6:.0f} us" for name, _, lat in LINKS))
    print(f"{'K':>5}" + "".join(f"{name:>12}" for name, _, _ in LINKS) + f"{'ideal':>12}")
    for k in (1, 2, 4, 8, 16, 32, 64, 128):
        row = f"{k:>5}"
        for _, bits_per_s, lat in LINKS:
            comm = 0.0 if k == 1 else 2 * (k - 1) / k * grad_bytes * 8 / bits_per_s + 2 * (k - 1) * lat
            row += f"{1.0 / (step / k + comm):>12,.0f}"
        print(row + f"{k / step:>12,.0f}")
    print(f"(with a global batch of {BATCH}, K = 128 leaves 2 samples per process: a larger global batch, or "
          f"buckets of the allreduce overlapped with the backward pass, is what scales further)")


if __name__ == "__main__":
    main()
