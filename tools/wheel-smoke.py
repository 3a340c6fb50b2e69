"""Smoke test of an installed fitcore wheel (run by tools/build-wheel and cibuildwheel's test step):
imports the installed package (not a source tree), trains a small classifier and checks it learned."""
import os
import sys

import numpy as np

import fitcore as fc

here = os.path.dirname(os.path.abspath(fc.__file__))
if os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "python")) in here:
    sys.exit(f"wheel-smoke: imported fitcore from the source tree ({here}), not from the installed wheel")

rng = np.random.default_rng(0)
x = rng.random((2000, 20), dtype=np.float32)
y = (x @ rng.normal(size=(20, 3))).argmax(axis=1)
model = fc.Sequential([fc.Input((20,)), fc.layers.Dense(32, activation="relu"),
                       fc.layers.Dense(3, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=15, batch_size=32, validation_split=0.2, verbose=0)
accuracy = history.history["val_accuracy"][-1]
print(f"wheel-smoke: fitcore {fc.__version__} from {here}; "
      f"instruction set {getattr(fc.config, 'get_isa', lambda: 'n/a')()}; val_accuracy {accuracy:.3f}")
if accuracy < 0.8:
    sys.exit(f"wheel-smoke: the fit did not learn (val_accuracy {accuracy:.3f} < 0.8)")
