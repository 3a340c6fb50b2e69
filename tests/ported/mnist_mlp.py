"""
Port of keras-team/keras examples/mnist_mlp.py (Keras 2's "Trains a simple deep NN on the MNIST
dataset"; https://github.com/keras-team/keras/blob/2.3.1/examples/mnist_mlp.py).

Edits beyond the imports (`from keras.X import Y` -> `from fitcore.X import Y`):
- `from keras.utils import np_utils` / `np_utils.to_categorical` -> `from fitcore.utils import
  to_categorical` / `to_categorical`: np_utils is gone from Keras 3 as well (the same edit makes the
  program run on Keras 3).
- data: keras.datasets.mnist.load_data() -> synthetic_data.mnist() (28x28 uint8 images, 6,000
  training and 1,000 test rows instead of 60,000 / 10,000), so the reshapes use len(x) rather than
  the literal 60000 / 10000.
"""

from __future__ import print_function
import numpy as np
np.random.seed(1337)  # for reproducibility

import synthetic_data
from fitcore.models import Sequential
from fitcore.layers import Dense, Dropout, Activation
from fitcore.optimizers import RMSprop
from fitcore.utils import to_categorical


batch_size = 128
num_classes = 10
epochs = 20

# the data, shuffled and split between train and test sets
(x_train, y_train), (x_test, y_test) = synthetic_data.mnist()

x_train = x_train.reshape(len(x_train), 784)
x_test = x_test.reshape(len(x_test), 784)
x_train = x_train.astype('float32')
x_test = x_test.astype('float32')
x_train /= 255
x_test /= 255
print(x_train.shape[0], 'train samples')
print(x_test.shape[0], 'test samples')

# convert class vectors to binary class matrices
y_train = to_categorical(y_train, num_classes)
y_test = to_categorical(y_test, num_classes)

model = Sequential()
model.add(Dense(512, activation='relu', input_shape=(784,)))
model.add(Dropout(0.2))
model.add(Dense(512, activation='relu'))
model.add(Dropout(0.2))
model.add(Dense(10, activation='softmax'))

model.summary()

model.compile(loss='categorical_crossentropy',
              optimizer=RMSprop(),
              metrics=['accuracy'])

history = model.fit(x_train, y_train,
                    batch_size=batch_size, epochs=epochs,
                    verbose=1, validation_data=(x_test, y_test))
score = model.evaluate(x_test, y_test, verbose=0)
print('Test loss:', score[0])
print('Test accuracy:', score[1])
