"""
Port of keras-team/keras examples/demo_functional.py (Keras 3's functional-API demo; the data is
random in the original too).

Edits beyond the import (`from keras import Model, layers, losses, metrics, optimizers` ->
`from fitcore import ...`): none. `x += residual` is tensor arithmetic on symbolic tensors.
"""
import numpy as np

from fitcore import Model
from fitcore import layers
from fitcore import losses
from fitcore import metrics
from fitcore import optimizers

inputs = layers.Input((100,))
x = layers.Dense(256, activation="relu")(inputs)
residual = x
x = layers.Dense(256, activation="relu")(x)
x = layers.Dense(256, activation="relu")(x)
x += residual
outputs = layers.Dense(16)(x)
model = Model(inputs, outputs)

model.summary()

x = np.random.random((50000, 100))
y = np.random.random((50000, 16))
batch_size = 32
epochs = 5

model.compile(
    optimizer=optimizers.Adam(learning_rate=0.001),
    loss=losses.MeanSquaredError(),
    metrics=[metrics.CategoricalAccuracy(name="acc"), metrics.MeanSquaredError(name="mse")],
)

print("\nTrain model")
history = model.fit(
    x, y, batch_size=batch_size, epochs=epochs, validation_split=0.2
)
print("\nHistory:")
print(history.history)

print("\nEvaluate model")
scores = model.evaluate(x, y, return_dict=True)
print(scores)

print("\nRun inference")
pred = model.predict(x)
print(f"Inferred output shape {pred.shape}")
