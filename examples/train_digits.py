"""The main job: an MLP on scikit-learn's bundled digits (8x8 images, 10 classes), trained with
fit(validation_split=0.2, verbose="auto"): a progress bar per epoch on a terminal, one line per
epoch in a log. Prints the final validation accuracy and saves the History plot as a PNG.

    pip install fitcore[examples]
    python examples/train_digits.py [output.png] [--epochs N]
"""
import argparse
import os
import tempfile

import matplotlib

matplotlib.use("Agg")  # writes files; no window needed

from sklearn.datasets import load_digits  # noqa: E402

import fitcore as fc  # noqa: E402


def main(png_path, epochs=40):
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")  # pixel intensities 0..16 scaled to [0, 1]
    y = digits.target.astype("int32")

    fc.utils.set_random_seed(42)
    model = fc.Sequential([
        fc.Input((64,)),
        fc.layers.Dense(128, activation="relu"),
        fc.layers.Dense(64, activation="relu"),
        fc.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    # validation_split takes the last 20% of the samples, before shuffling (as Keras)
    history = model.fit(x, y, batch_size=32, epochs=epochs, validation_split=0.2, verbose="auto")

    print(history)
    print(f"final validation accuracy: {history.history['val_accuracy'][-1]:.4f}")
    history.plot().savefig(png_path, dpi=100)
    print(f"history plot saved to {os.path.abspath(png_path)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("png_path", nargs="?",
                        default=os.path.join(tempfile.gettempdir(), "fitcore_digits_history.png"))
    parser.add_argument("--epochs", type=int, default=40, help="epochs to train (default 40; fewer for a quick check)")
    args = parser.parse_args()
    main(args.png_path, args.epochs)
