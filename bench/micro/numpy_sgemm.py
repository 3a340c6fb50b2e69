"""numpy's float32 GEMM at the shapes of `tools/micro-bench gemm`, the yardstick beside our kernels.

Run by tools/micro-bench with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (some machines pin
OpenBLAS to older kernels with them) and OPENBLAS_NUM_THREADS/OMP_NUM_THREADS as the C++ run had.
Each figure: the median of 5 runs of about 0.2 s. Usage: numpy_sgemm.py [MAX_WIDTH]
"""
import statistics
import sys
import time

import numpy as np

SHAPES = [(32, 784, 256, "reference layer 1, batch 32"), (256, 784, 256, "reference layer 1, batch 256"),
          (256, 256, 256, "reference layer 2, batch 256"), (2048, 256, 256, "256-wide, batch 2048"),
          (2048, 1024, 1024, "1024-wide, batch 2048"), (1024, 2048, 1024, "1024-wide, batch 2048, x^T dz", "w"),
          (2048, 1024, 1024, "1024-wide, batch 2048, dz W^T", "x"), (2048, 2048, 2048, "2048-wide, batch 2048"),
          (2048, 4096, 4096, "4096-wide, batch 2048")]


def rate(m, k, n, layout="f"):
    """`layout` as in micro.cpp: "f" A B, "w" A^T B (A stored k x m), "x" A B^T (B stored n x k)."""
    rng = np.random.default_rng(1)
    a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
    if layout == "w":
        a = np.ascontiguousarray(a.T).T
    if layout == "x":
        b = np.ascontiguousarray(b.T).T
    out = np.empty((m, n), dtype=np.float32)
    np.matmul(a, b, out=out)
    runs = []
    for _ in range(5):
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < 0.2:
            np.matmul(a, b, out=out)
            calls += 1
        runs.append(2.0 * m * k * n * calls / (time.perf_counter() - start) / 1e9)
    return statistics.median(runs)


def blas_kernel():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "kernel unknown (no threadpoolctl)"
    return ", ".join(f"{i.get('internal_api')} {i.get('architecture')} x{i.get('num_threads')}"
                     for i in threadpool_info() if i.get("user_api") == "blas") or "no BLAS found"


def main(max_width):
    print(f"numpy {np.__version__} sgemm ({blas_kernel()}), GFLOP/s")
    for m, k, n, label, *layout in SHAPES:
        if n <= max_width:
            print(f"{label:<32} {f'{m}x{k}x{n}':<20} {rate(m, k, n, *layout):9.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4096)
