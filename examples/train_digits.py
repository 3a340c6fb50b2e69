"""fitcore's main job: an MLP on scikit-learn's bundled digits, with progress, the final
validation accuracy, and the History plot saved as a PNG."""
import os

import numpy as np
from sklearn.datasets import load_digits

import fitcore as fc


def main():
    fc.utils.set_random_seed(0)
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target
    order = np.random.default_rng(0).permutation(len(x))  # digits are stored in class blocks
    x, y = x[order], y[order]

    model = fc.Sequential([fc.Input((64,)), fc.layers.Dense(128, activation="relu"),
                           fc.layers.Dense(64, activation="relu"), fc.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=20, validation_split=0.2, verbose="auto")
    print(f"final validation accuracy: {history.history['val_accuracy'][-1]:.4f}")

    if hasattr(history, "plot"):
        path = os.path.abspath("digits_history.png")
        history.plot().savefig(path)
        print(f"History plot saved to {path}")


if __name__ == "__main__":
    main()
