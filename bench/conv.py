"""Convolutional workloads: fitcore beside Keras 3/JAX and PyTorch (oneDNN), each framework in its
own process, the peers alternating within each repetition (bench/peers.py's method and helpers).

    mnist  keras-team/keras examples/demo_mnist_convnet.py: 28x28x1, Conv2D 32 -> MaxPool -> Conv2D 64
           -> MaxPool -> Flatten -> Dropout 0.5 -> Dense 10 softmax, categorical crossentropy, batch 128
    cifar  32x32x3, three Conv2D 'same' + BatchNormalization + relu blocks (32, 64, 128 filters; max
           pooling between) -> GlobalAveragePooling2D -> Dense 10, batch 64
    text   ids (200,) -> Embedding 10000x64 -> Conv1D 128 k5 relu -> GlobalMaxPooling1D -> Dense 1
           sigmoid, batch 64

Adam(1e-3), metrics ["accuracy"], shuffle on; one warm-up epoch, then one timed epoch; figure:
training samples per second; peak memory: the fit's peak RSS growth above the process with its data.

    python bench/conv.py                     # 3 repetitions, every workload and peer
    python bench/conv.py --quick             # 1 repetition
    python bench/conv.py --workloads mnist --peers fitcore torch --reps 5
"""
import argparse
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from peers import PEERS, installed, peak_rss_bytes, reset_peak_rss  # noqa: E402

# workload -> (samples, batch size)
WORKLOADS = {"mnist": (7680, 128), "cifar": (3200, 64), "text": (6400, 64)}
CONV_PEERS = ["fitcore", "keras-jax", "torch"]
VOCAB, SEQ, EMBED = 10000, 200, 64


# --- workers: each runs in its own process and prints one JSON line ----------------------------
def workload_data(name, samples):
    """Synthetic data of the workload's shape with a learnable signal (labels from a fixed random
    projection of the inputs)."""
    import numpy as np

    rng = np.random.default_rng(0)
    if name == "text":
        x = rng.integers(0, VOCAB, size=(samples, SEQ)).astype(np.int32)
        y = (np.isin(x, np.arange(0, VOCAB, 7)).sum(1) > SEQ / 7).astype(np.float32)[:, None]
        return x, y
    shape = (28, 28, 1) if name == "mnist" else (32, 32, 3)
    x = rng.random((samples,) + shape, dtype=np.float32)
    labels = np.argmax(x.reshape(samples, -1) @ rng.standard_normal((int(np.prod(shape)), 10)), axis=1)
    if name == "mnist":  # the demo's one-hot targets (to_categorical)
        return x, np.eye(10, dtype=np.float32)[labels]
    return x, labels


def keras_like_model(api, name):
    """The workload's model in the Keras API (fitcore and Keras share it)."""
    L = api.layers
    if name == "mnist":
        return api.Sequential([api.Input((28, 28, 1)), L.Conv2D(32, kernel_size=(3, 3), activation="relu"),
                               L.MaxPooling2D(pool_size=(2, 2)), L.Conv2D(64, kernel_size=(3, 3), activation="relu"),
                               L.MaxPooling2D(pool_size=(2, 2)), L.Flatten(), L.Dropout(0.5),
                               L.Dense(10, activation="softmax")]), "categorical_crossentropy"
    if name == "cifar":
        blocks = []
        for i, filters in enumerate((32, 64, 128)):
            blocks += [L.Conv2D(filters, 3, padding="same"), L.BatchNormalization(), L.Activation("relu")]
            if i < 2:
                blocks.append(L.MaxPooling2D())
        return api.Sequential([api.Input((32, 32, 3)), *blocks, L.GlobalAveragePooling2D(),
                               L.Dense(10, activation="softmax")]), "sparse_categorical_crossentropy"
    return api.Sequential([api.Input((SEQ,)), L.Embedding(VOCAB, EMBED), L.Conv1D(128, 5, activation="relu"),
                           L.GlobalMaxPooling1D(), L.Dense(1, activation="sigmoid")]), "binary_crossentropy"


def keras_like_fit(api, name, x, y, batch_size):
    model, loss = keras_like_model(api, name)
    model.compile(optimizer=api.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    return time.perf_counter() - start


def torch_model(name):
    """The same architectures in PyTorch (NCHW, as its oneDNN convolutions expect), Keras's
    initializers (glorot_uniform, zero biases) and BatchNormalization settings."""
    import torch
    from torch import nn

    class Text(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED)
            self.conv = nn.Conv1d(EMBED, 128, 5)
            self.out = nn.Linear(128, 1)

        def forward(self, ids):
            h = torch.relu(self.conv(self.embed(ids).transpose(1, 2)))
            return self.out(h.amax(dim=2))

    if name == "mnist":
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))
    elif name == "cifar":
        layers, channels = [], 3
        for i, filters in enumerate((32, 64, 128)):
            layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.BatchNorm2d(filters, eps=1e-3, momentum=0.01),
                       nn.ReLU()]
            if i < 2:
                layers.append(nn.MaxPool2d(2))
            channels = filters
        model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))
    else:
        model = Text()
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
    return model


def torch_fit(name, x, y, batch_size):
    """An ordinary eager loop: randperm, index, zero_grad, forward, backward, step, accuracy."""
    import numpy as np
    import torch

    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    model = torch_model(name)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    if name == "text":
        xt, yt = torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y)
        loss_fn = torch.nn.BCEWithLogitsLoss()
    else:
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        yt = torch.from_numpy(y.argmax(1) if name == "mnist" else y)
        loss_fn = torch.nn.CrossEntropyLoss()  # softmax + crossentropy

    def epoch():
        model.train()
        correct = 0
        for idx in torch.randperm(len(xt)).split(batch_size):
            xb, yb = xt[idx], yt[idx]
            optimizer.zero_grad()
            out = model(xb)
            loss_fn(out, yb).backward()
            optimizer.step()
            hits = (out > 0).float() == yb if name == "text" else out.argmax(1) == yb
            correct += int(hits.sum())
        return correct

    epoch()
    start = time.perf_counter()
    epoch()
    return time.perf_counter() - start


def run_peer(peer, name, samples, batch_size):
    x, y = workload_data(name, samples)
    reset_peak_rss()
    before = peak_rss_bytes()
    if peer == "fitcore":
        import fitcore as api

        seconds = keras_like_fit(api, name, x, y, batch_size)
    elif peer == "keras-jax":
        import keras as api

        seconds = keras_like_fit(api, name, x, y, batch_size)
    elif peer == "torch":
        seconds = torch_fit(name, x, y, batch_size)
    else:
        raise ValueError(f"unknown peer {peer!r}")
    return {"seconds": seconds, "peak_rss": peak_rss_bytes() - before, "data_bytes": x.nbytes + y.nbytes}


# --- the driver ---------------------------------------------------------------------------------
def spawn(peer, name, samples, batch_size):
    env = {**os.environ, **PEERS[peer][1]}
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", peer, name, str(samples), str(batch_size)]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if run.returncode != 0:
        tail = run.stderr.strip().splitlines()[-1:] or ["no output"]
        print(f"  {peer} {name}: failed ({tail[0]})", file=sys.stderr)
        return None
    return json.loads(run.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 repetition")
    parser.add_argument("--reps", type=int, help="repetitions (default 3, or 1 with --quick)")
    parser.add_argument("--workloads", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument("--peers", nargs="+", choices=CONV_PEERS, default=CONV_PEERS)
    parser.add_argument("--samples", type=int, help="samples per epoch (default: per workload)")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        peer, name, samples, batch = args.worker
        print(json.dumps(run_peer(peer, name, int(samples), int(batch))))
        return
    if importlib.util.find_spec("fitcore") is None:
        sys.path.insert(0, os.path.join(HERE, "..", "python"))  # a source tree built with tools/dev-build
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [sys.path[0], os.environ.get("PYTHONPATH")]))
    reps = args.reps or (1 if args.quick else 3)
    peers = [p for p in dict.fromkeys(["fitcore", *args.peers]) if installed(p)]
    runs = {(p, w): [] for p in peers for w in args.workloads}
    for rep in range(reps):
        for w in args.workloads:
            samples, batch = WORKLOADS[w]
            for p in peers:
                result = spawn(p, w, args.samples or samples, batch)
                if result:
                    runs[(p, w)].append(result)
                    print(f"  {w} {p}: {(args.samples or samples) / result['seconds']:,.0f} samples/s",
                          file=sys.stderr, flush=True)
        print(f"  repetition {rep + 1}/{reps} done", file=sys.stderr)

    print(f"\nConvolutional workloads, median of {reps} run(s), {os.cpu_count()} cores")
    print(f"{'workload':<8} {'batch':>5}  {'peer':<10} {'samples/s':>10} {'fitcore/peer':>13} {'peak MiB':>9}")
    ratios = {p: [] for p in peers if p != "fitcore"}
    for w in args.workloads:
        samples, batch = WORKLOADS[w]
        rate = {p: statistics.median((args.samples or samples) / r["seconds"] for r in runs[(p, w)])
                for p in peers if runs[(p, w)]}
        fc = rate.get("fitcore")
        for p in peers:
            if p not in rate:
                continue
            ratio = ""
            if fc and p != "fitcore":
                ratio = f"{fc / rate[p]:12.2f}x"
                ratios[p].append(fc / rate[p])
            peak = max(r["peak_rss"] for r in runs[(p, w)]) / 2**20
            print(f"{w:<8} {batch:>5}  {p:<10} {rate[p]:>10,.0f} {ratio:>13} {peak:9.1f}")
        others = [rate[p] for p in rate if p != "fitcore"]
        if fc and others:
            print(f"{w:<8} {'':>5}  {'fastest':<10} {'':>10} {fc / max(others):12.2f}x  (target >= 1.0x)")
    for p, values in ratios.items():
        if values:
            geo = math.exp(sum(map(math.log, values)) / len(values))
            target = "  (target >= 1.5x)" if p == "keras-jax" else ""
            print(f"geometric mean fitcore/{p}: {geo:.2f}x over {len(values)} workload(s){target}")


if __name__ == "__main__":
    main()
