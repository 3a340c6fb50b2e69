"""The MNIST convnet of keras-team/keras examples/demo_mnist_convnet.py, written against fitcore's
Keras names the way that program uses them (keras.Sequential, keras.layers.*,
keras.utils.to_categorical, summary, compile, fit with validation_split, evaluate), on synthetic
data of MNIST's shape and dtype with a learnable signal: it runs and learns."""
import io
import contextlib

import numpy as np

import fitcore as keras
from fitcore import layers
from fitcore.utils import to_categorical


def synthetic_mnist(train, test, seed=0):
    """uint8 images (n, 28, 28) and uint8 labels (n,) as mnist.load_data() returns them: class k is a
    bright 7x7 square at the k-th of ten places, over noise, shifted by up to 2 pixels."""
    rng = np.random.default_rng(seed)

    def make(n):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 90, size=(n, 28, 28)).astype(np.uint8)
        rows, cols = 2 + 12 * (labels // 5), 2 + 5 * (labels % 5)
        shift = rng.integers(-2, 3, size=(n, 2))
        for i in range(n):  # test data set-up, not a hot path
            r, c = max(rows[i] + shift[i, 0], 0), max(cols[i] + shift[i, 1], 0)
            images[i, r:r + 7, c:c + 7] = 255
        return images, labels

    return make(train), make(test)


def test_mnist_convnet_program_runs_and_learns():
    num_classes = 10
    input_shape = (28, 28, 1)
    (x_train, y_train), (x_test, y_test) = synthetic_mnist(1200, 300)
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    y_train = to_categorical(y_train, num_classes)
    y_test = to_categorical(y_test, num_classes)

    model = keras.Sequential([
        layers.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        model.summary()
    # Keras's summary of this model: its output shapes and parameter counts.
    for row in ["(None, 26, 26, 32)", "320", "(None, 13, 13, 32)", "(None, 11, 11, 64)", "18,496",
                "(None, 5, 5, 64)", "(None, 1600)", "16,010", "Total params: 34,826"]:
        assert row in printed.getvalue()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=128, epochs=3, validation_split=0.1, verbose=0)
    score = model.evaluate(x_test, y_test, verbose=0)
    assert history.history["val_accuracy"][-1] > 0.6  # chance is 0.1
    assert score[1] > 0.6 and score[0] < history.history["loss"][0]
