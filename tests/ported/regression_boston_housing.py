"""
Port of keras-team/keras-io examples/structured_data/regression_boston_housing.py
(https://keras.io/examples/structured_data/regression_boston_housing/), last modified 2020/05/30.

Edits beyond the import (`from tensorflow import keras` -> `import fitcore as keras`,
`from tensorflow.keras import layers` -> `from fitcore import layers`):
- data: tf.keras.datasets.boston_housing.load_data(...) is replaced by
  synthetic_data.boston_housing() (the same 354/152 split of 13 features), so
  `import tensorflow as tf` (used only for the loader) is dropped.
- plt.show() calls stay; the test runs matplotlib's Agg backend, where they draw nothing.
"""
import pandas
import fitcore as keras
from fitcore import layers
import matplotlib.pyplot as plt

import synthetic_data

"""
## Load and Split Dataset
"""

# The dataset is splitted by 70:30 proportion
(x_train, y_train), (x_test, y_test) = synthetic_data.boston_housing()

print("Train Dimension:", x_train.shape)
print("Test Dimension:", x_test.shape)

"""
## Build and Fit Model
"""


def build_model():
    model = keras.Sequential(
        [
            # input_shape is number of features
            layers.Dense(32, activation="relu", input_shape=[x_train.shape[1]]),
            layers.Dense(32, activation="relu"),
            layers.Dense(1),
        ]
    )

    # The loss function is mean squared error
    # The metrics is Mean Absolute Error and Mean Squared Error
    model.compile(loss="mse", optimizer="adam", metrics=["mae", "mse"])
    return model


# Build the model
model = build_model()
model.summary()

# Use early stopping to break the training if the val_loss doesn't changed in 10 epochs
early_stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10)


history = model.fit(
    x_train,
    y_train,
    batch_size=32,
    epochs=100,
    verbose=0,
    validation_split=0.3,
    callbacks=[early_stop],
)

"""
## Visualize Train and Validation Loss
"""

plt.plot(history.history["loss"])
plt.plot(history.history["val_loss"])
plt.title("model loss")
plt.ylabel("loss")
plt.xlabel("epoch")
plt.legend(["train", "val"], loc="upper right")
plt.show()

# Test Loss
loss, mae, mse = model.evaluate(x_test, y_test, verbose=2)

"""
## Make Prediction
"""

prediction = model.predict(x_test).flatten()
prediction

plt.axes(aspect="equal")
plt.scatter(y_test, prediction)
plt.xlabel("True Values")
plt.ylabel("Predictions")
lims = [0, 50]
plt.xlim(lims)
plt.ylim(lims)
plt.plot(lims, lims)
plt.show()


"""
The model seems to work well. The prediction is reasonably well. Let's see the residual
distribution
"""

error = prediction - y_test
plt.hist(error, bins=25)
plt.xlabel("Prediction Error [MPG]")
plt.ylabel("Count")
plt.show()
