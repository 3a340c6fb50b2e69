"""fitcore: Keras's Model.fit() with a compiled C++ core, fast on CPUs."""
from fitcore import (activations, callbacks, config, distribution, initializers, layers, losses, metrics,
                     models, optimizers, regularizers, utils)
from fitcore.layers import Input
from fitcore.models import Model, Sequential

__version__ = "0.1.0"  # the one place the version is written (pyproject reads it from here)
__all__ = ["Input", "Model", "Sequential", "activations", "callbacks", "config", "distribution", "initializers", "layers",
           "losses", "metrics", "models", "optimizers", "regularizers", "utils", "wrappers"]


def __getattr__(name):
    # fc.wrappers imports scikit-learn, which a plain `import fitcore` should not pay for.
    if name == "wrappers":
        import importlib

        return importlib.import_module("fitcore.wrappers")
    raise AttributeError(f"module 'fitcore' has no attribute {name!r}")
