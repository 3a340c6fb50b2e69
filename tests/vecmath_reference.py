"""float64 references and ULP distances for tests/test_vecmath.py."""
import numpy as np
from scipy import special

F32_MIN_NORMAL = np.float32(np.finfo(np.float32).tiny)


def sample_inputs(seed=0, dense=200_001, random_bits=400_000):
    """Dense [-100, 100], random bit patterns over all finite floats, and the special values."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(-100.0, 100.0, dense, dtype=np.float64).astype(np.float32)
    bits = rng.integers(0, 2**32, size=random_bits, dtype=np.uint64).astype(np.uint32).view(np.float32)
    bits = bits[np.isfinite(bits)]
    tiny = np.array([1e-45, 2e-45, 1e-40, 1.1754942e-38, 1.1754944e-38, 1e-30, 1e-10, 3e-4, 5e-4], np.float32)
    special_values = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, np.finfo(np.float32).max,
                               -np.finfo(np.float32).max, 88.7, -88.7, 87.3, -87.3, 103.0, -103.0], np.float32)
    return np.concatenate([grid, bits, tiny, -tiny, special_values])


def _sigmoid(z):
    return special.expit(z)


def _gelu(z):
    return 0.5 * z * special.erfc(-z / np.sqrt(2.0))


def _softplus(z):
    return np.logaddexp(z, 0.0)


FORWARD = {
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "gelu": _gelu,
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "silu": lambda z: z * _sigmoid(z),
    "softplus": _softplus,
}

# f'(z): from z for the activations whose backward reads z, else from y = f(z) (the backward's
# own formula, evaluated in float64 on the float32 y the forward gave).
DERIVATIVE_FROM_Z = {
    "gelu": lambda z: 0.5 * special.erfc(-z / np.sqrt(2.0)) + z * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi),
    "silu": lambda z: _sigmoid(z) * (1.0 + z * (1.0 - _sigmoid(z))),
    "softplus": _sigmoid,
}
# The magnitude of the largest term each derivative formula adds up: near a root of f' (gelu's at
# z = -0.7518, silu's at z = -1.2785) the result cancels, and errors are measured in ulps of this.
DERIVATIVE_SCALE = {
    "gelu": lambda z, y: (0.5 * special.erfc(-z / np.sqrt(2.0))
                          + np.abs(z) * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)),
    "silu": lambda z, y: _sigmoid(z) * (1.0 + np.abs(z) * (1.0 - _sigmoid(z))),
    "tanh": lambda z, y: np.ones_like(y),
    "sigmoid": lambda z, y: np.abs(y),
    "elu": lambda z, y: np.ones_like(y),
}

DERIVATIVE_FROM_Y = {
    "relu": lambda y: (y > 0).astype(np.float64),
    "sigmoid": lambda y: y * (1.0 - y),
    "tanh": lambda y: 1.0 - y * y,
    "elu": lambda y: np.where(y > 0, 1.0, y + 1.0),
}


def ordered(x):
    """float32 values as integers in the order of the floats (adjacent floats differ by 1)."""
    i = np.asarray(x, np.float32).view(np.int32).astype(np.int64)
    return np.where(i < 0, -(i & 0x7FFFFFFF), i)


def errors(got, reference64, scale64=None):
    """Per element: the ULP distance where the reference is a normal float (or zero); NaN/inf must
    match exactly; where the reference underflows below float32's smallest normal, the absolute
    error in units of that smallest normal (flushing to zero costs at most 1). With scale64, the
    ULPs are those of max(|reference|, scale) (for formulas that cancel)."""
    got = np.asarray(got, np.float32)
    ref = reference64.astype(np.float32)
    nan_mismatch = np.isnan(got) != np.isnan(ref)
    inf_mismatch = (np.isinf(got) | np.isinf(ref)) & (got != ref) & ~np.isnan(ref)
    finite = np.isfinite(ref) & np.isfinite(got)
    underflow = finite & (np.abs(reference64) < F32_MIN_NORMAL)
    ulp = np.zeros(got.shape, np.float64)
    normal = finite & ~underflow
    if scale64 is None:
        ulp[normal] = np.abs(ordered(got[normal]) - ordered(ref[normal]))
    else:
        with np.errstate(invalid="ignore"):
            unit = np.spacing(np.maximum(np.abs(ref[normal]), np.abs(scale64[normal]).astype(np.float32)))
        ulp[normal] = np.abs(got[normal].astype(np.float64) - reference64[normal]) / unit.astype(np.float64)
    ulp[underflow] = np.abs(got[underflow].astype(np.float64) - reference64[underflow]) / F32_MIN_NORMAL
    ulp[nan_mismatch | inf_mismatch] = np.inf
    return ulp
