"""
Port of keras-team/keras-io guides/functional_api.py (https://keras.io/guides/functional_api/),
fchollet, last modified 2020/04/12: the sections "Training, evaluation, and inference", "Save and
serialize" and "All models are callable, just like layers" (ensembling).

Edits beyond the import (`from tensorflow import keras` / `from tensorflow.keras import layers`
-> fitcore):
- data: keras.datasets.mnist.load_data() -> synthetic_data.mnist() (6,000 / 1,000 rows), so the
  reshapes use -1 instead of 60000 / 10000.
- keras.utils.plot_model(...) lines dropped (drawing needs pydot and graphviz; fitcore has no
  plot_model).
- model.save("path_to_my_model") -> model.save("path_to_my_model.keras"): Keras 3 needs the suffix
  too (the TF SavedModel directory is gone).
- sections left out: the convolutional autoencoders (Conv2D, Conv2DTranspose, UpSampling2D),
  the ticket-routing model (LSTM over variable-length text), the toy ResNet (Conv2D), the shared
  Embedding over variable-length sequences (shape=(None,)) and the custom-layer sections: fitcore
  has no recurrent layers nor variable-length inputs, and convolutions are another helper's work.
- the ensemble is also compiled and fitted (the guide only builds it), so the port checks that
  the nested models train as one model.
"""

import numpy as np
import fitcore as keras
from fitcore import layers

import synthetic_data

inputs = keras.Input(shape=(784,))

# Just for demonstration purposes.
img_inputs = keras.Input(shape=(32, 32, 3))

inputs.shape

inputs.dtype

dense = layers.Dense(64, activation="relu")
x = dense(inputs)

x = layers.Dense(64, activation="relu")(x)
outputs = layers.Dense(10)(x)

model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")

model.summary()

(x_train, y_train), (x_test, y_test) = synthetic_data.mnist()

x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255

model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.RMSprop(),
    metrics=["accuracy"],
)

history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2)

test_scores = model.evaluate(x_test, y_test, verbose=2)
print("Test loss:", test_scores[0])
print("Test accuracy:", test_scores[1])

model.save("path_to_my_model.keras")
del model
# Recreate the exact same model purely from the file:
model = keras.models.load_model("path_to_my_model.keras")
reloaded_scores = model.evaluate(x_test, y_test, verbose=0)


def get_model():
    inputs = keras.Input(shape=(128,))
    outputs = layers.Dense(1)(inputs)
    return keras.Model(inputs, outputs)


model1 = get_model()
model2 = get_model()
model3 = get_model()

inputs = keras.Input(shape=(128,))
y1 = model1(inputs)
y2 = model2(inputs)
y3 = model3(inputs)
outputs = layers.average([y1, y2, y3])
ensemble_model = keras.Model(inputs=inputs, outputs=outputs)

# (port) train the ensemble on a linear target
rng = np.random.default_rng(0)
x_lin = rng.normal(size=(2000, 128)).astype("float32")
y_lin = x_lin @ rng.normal(size=(128, 1)).astype("float32") / 8
ensemble_model.compile(optimizer="adam", loss="mse")
ensemble_history = ensemble_model.fit(x_lin, y_lin, batch_size=64, epochs=10, verbose=0)
