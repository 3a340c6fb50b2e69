"""
Port of keras-team/keras-io guides/sequential_model.py (https://keras.io/guides/sequential_model/),
fchollet, last modified 2020/04/12.

Edits beyond the import (`import keras` / `from keras import layers` -> fitcore):
- `tf.ones(...)` -> `np.ones(...)` (the guide imports TensorFlow only for these test inputs).
- the sections built on Conv2D / MaxPooling2D / GlobalMaxPooling2D (the add()+summary() debugging
  workflow and the two feature extractors) use Dense layers on (784,) inputs instead: convolution
  layers are another helper's work; the API the sections show (add, summary, layer.output,
  get_layer(name=...).output, a model called on an array) is the same.
- the guide's two transfer-learning blueprints are code blocks in its text; they are run here
  (with a small Dense base model for keras.applications.Xception and synthetic data), so the port
  trains something.
"""

import numpy as np
import fitcore as keras
from fitcore import layers

import synthetic_data

# Define Sequential model with 3 layers
model = keras.Sequential(
    [
        layers.Dense(2, activation="relu", name="layer1"),
        layers.Dense(3, activation="relu", name="layer2"),
        layers.Dense(4, name="layer3"),
    ]
)
# Call model on a test input
x = np.ones((3, 3))
y = model(x)

# Create 3 layers
layer1 = layers.Dense(2, activation="relu", name="layer1")
layer2 = layers.Dense(3, activation="relu", name="layer2")
layer3 = layers.Dense(4, name="layer3")

# Call layers on a test input
x = np.ones((3, 3))
y = layer3(layer2(layer1(x)))

model = keras.Sequential(
    [
        layers.Dense(2, activation="relu"),
        layers.Dense(3, activation="relu"),
        layers.Dense(4),
    ]
)

model.layers

model = keras.Sequential()
model.add(layers.Dense(2, activation="relu"))
model.add(layers.Dense(3, activation="relu"))
model.add(layers.Dense(4))

model.pop()
print(len(model.layers))  # 2
layers_after_pop = len(model.layers)

model = keras.Sequential(name="my_sequential")
model.add(layers.Dense(2, activation="relu", name="layer1"))
model.add(layers.Dense(3, activation="relu", name="layer2"))
model.add(layers.Dense(4, name="layer3"))

layer = layers.Dense(3)
layer.weights  # Empty
weights_before_call = len(layer.weights)

# Call layer on a test input
x = np.ones((1, 4))
y = layer(x)
layer.weights  # Now it has weights, of shape (4, 3) and (3,)
weight_shapes_after_call = [tuple(w.shape) for w in layer.weights]

model = keras.Sequential(
    [
        layers.Dense(2, activation="relu"),
        layers.Dense(3, activation="relu"),
        layers.Dense(4),
    ]
)  # No weights at this stage!

# Call the model on a test input
x = np.ones((1, 4))
y = model(x)
print("Number of weights after calling the model:", len(model.weights))  # 6
weights_after_model_call = len(model.weights)

model.summary()

model = keras.Sequential()
model.add(keras.Input(shape=(4,)))
model.add(layers.Dense(2, activation="relu"))

model.summary()

model.layers

model = keras.Sequential()
model.add(layers.Dense(2, activation="relu", input_shape=(4,)))

model.summary()

# add() + summary() while stacking (Dense in place of the guide's Conv2D stack)
model = keras.Sequential()
model.add(keras.Input(shape=(784,)))
model.add(layers.Dense(256, activation="relu"))
model.add(layers.Dense(128, activation="relu"))
model.summary()
model.add(layers.Dense(64, activation="relu"))
model.summary()
model.add(layers.Dense(10))

# Feature extraction with a Sequential model
initial_model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(16, activation="relu"),
    ]
)
feature_extractor = keras.Model(
    inputs=initial_model.inputs,
    outputs=[layer.output for layer in initial_model.layers],
)

# Call feature extractor on test input.
x = np.ones((1, 784))
features = feature_extractor(x)

initial_model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu", name="my_intermediate_layer"),
        layers.Dense(16, activation="relu"),
    ]
)
feature_extractor = keras.Model(
    inputs=initial_model.inputs,
    outputs=initial_model.get_layer(name="my_intermediate_layer").output,
)
# Call feature extractor on test input.
x = np.ones((1, 784))
features_one_layer = feature_extractor(x)

# Transfer learning blueprint 1: freeze all layers except the last one.
(x_train, y_train), _ = synthetic_data.mnist(train=2000, test=1)
x_train = x_train.reshape(-1, 784).astype("float32") / 255

model = keras.Sequential([
    keras.Input(shape=(784,)),
    layers.Dense(32, activation='relu'),
    layers.Dense(32, activation='relu'),
    layers.Dense(32, activation='relu'),
    layers.Dense(10),
])

# Presumably you would want to first load pre-trained weights.
frozen_before = [w.copy() for w in model.get_weights()[:-2]]

# Freeze all layers except the last one.
for layer in model.layers[:-1]:
  layer.trainable = False

# Recompile and train (this will only update the weights of the last layer).
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
history_frozen = model.fit(x_train, y_train, epochs=5, verbose=0)
frozen_after = model.get_weights()[:-2]

# Transfer learning blueprint 2: a frozen base model under a new classifier.
base_model = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(64, activation="relu"),
                               layers.Dense(64, activation="relu")])

# Freeze the base model
base_model.trainable = False

# Use a Sequential model to add a trainable classifier on top
model = keras.Sequential([
    keras.Input(shape=(784,)),
    base_model,
    layers.Dense(10),
])

# Compile & train
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
base_before = [w.copy() for w in base_model.get_weights()]
history_base = model.fit(x_train, y_train, epochs=5, verbose=0)
base_after = base_model.get_weights()
