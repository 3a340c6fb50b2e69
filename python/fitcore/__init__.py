"""fitcore: Keras's Model.fit() with a compiled C++ core, fast on CPUs."""
from fitcore import (activations, callbacks, config, initializers, layers, losses, metrics, models,
                     optimizers, regularizers, utils)
from fitcore.layers import Input
from fitcore.models import Model, Sequential

__version__ = "0.1.0"
__all__ = ["Input", "Model", "Sequential", "activations", "callbacks", "config", "initializers", "layers",
           "losses", "metrics", "models", "optimizers", "regularizers", "utils"]
