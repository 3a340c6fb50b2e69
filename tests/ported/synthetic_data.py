"""Synthetic stand-ins for the data sets the ported Keras programs download (the tests run
offline): the same array shapes, dtypes and value ranges as the real loaders return, with a
learnable signal so a program that trains can be seen to learn. Fewer rows than the real sets, so
the programs run in seconds."""
import numpy as np


def mnist(train=6000, test=1000, seed=0):
    """As keras.datasets.mnist.load_data(): ((x_train, y_train), (x_test, y_test)), x uint8
    (n, 28, 28) in [0, 255], y uint8 class ids: each class a blurred stroke pattern plus noise."""
    rng = np.random.default_rng(seed)
    prototypes = rng.uniform(0, 1, size=(10, 28, 28)) ** 3

    def draw(n):
        y = rng.integers(0, 10, size=n).astype(np.uint8)
        x = prototypes[y] * 255 * rng.uniform(0.6, 1.0, size=(n, 1, 1)) + rng.normal(0, 40, size=(n, 28, 28))
        return np.clip(x, 0, 255).astype(np.uint8), y

    return draw(train), draw(test)


def boston_housing(train=354, test=152, seed=0):
    """As keras.datasets.boston_housing.load_data(test_split=0.3): 13 features of mixed scales
    (float64) and prices in thousands of dollars (5 to 50), each feature nudging the price up or
    down as in the real data, plus noise."""
    rng = np.random.default_rng(seed)
    scales = np.array([5, 20, 10, 1, 0.6, 6, 70, 4, 10, 400, 18, 350, 12], np.float64)
    signs = np.array([-1, 1, -1, 1, -1, 1, -1, 1, -1, -1, -1, 1, -1], np.float64)  # as the real correlations

    def draw(n):
        relative = rng.normal(0.0, 0.2, size=(n, 13))
        x = np.abs(1.0 + relative) * scales
        price = 22 + 10 * relative @ signs + rng.normal(0, 2, size=n)
        return x, np.clip(price, 5, 50)

    return draw(train), draw(test)


def credit_card_fraud(rows=10000, seed=0):
    """As the Kaggle credit card CSV the example reads: 30 float features (Time, V1..V28, Amount)
    and a 0/1 class with about 1% frauds, frauds shifted along a few of the V features."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 30)).astype("float32")
    features[:, 0] = np.sort(rng.uniform(0, 172792, size=rows))
    features[:, 29] = rng.lognormal(3, 1.5, size=rows)
    fraud = rng.uniform(size=rows) < 0.01
    features[fraud, 1:8] += rng.normal(2.5, 0.5, size=(fraud.sum(), 7))
    return features, fraud.astype("uint8")[:, None]
