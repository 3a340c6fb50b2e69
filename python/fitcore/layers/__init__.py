"""Layers: configuration, shapes and weight names in Python; their math in the core."""
from fitcore.layers.activation import Activation
from fitcore.layers.add import Add
from fitcore.layers.batch_normalization import BatchNormalization
from fitcore.layers.concatenate import Concatenate
from fitcore.layers.dense import Dense
from fitcore.layers.dropout import Dropout
from fitcore.layers.embedding import Embedding
from fitcore.layers.flatten import Flatten
from fitcore.layers.gaussian_noise import GaussianNoise
from fitcore.layers.input_layer import Input, InputLayer, SymbolicTensor
from fitcore.layers.layer import Layer, Weight
from fitcore.layers.dot import Dot
from fitcore.layers.elementwise import Average, Maximum, Minimum, Multiply, Subtract
from fitcore.layers.permute import Permute
from fitcore.layers.repeat_vector import RepeatVector
from fitcore.layers.rescaling import Rescaling
from fitcore.layers.conv import Conv1D, Conv2D
from fitcore.layers.pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
                                    GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)
from fitcore.layers.reshaping import Reshape, UpSampling1D, UpSampling2D, ZeroPadding1D, ZeroPadding2D
from fitcore.layers.spatial_dropout import SpatialDropout1D, SpatialDropout2D

# The functional forms shadow the modules of the same name (fitcore.layers.add / .concatenate), as in Keras.
from fitcore.layers.merge_functions import add, average, concatenate, dot, maximum, minimum, multiply, subtract

__all__ = ["Activation", "Add", "BatchNormalization", "Concatenate", "Dense", "Dropout", "Embedding", "Flatten",
           "GaussianNoise", "Input", "InputLayer", "Layer", "SymbolicTensor", "Weight"]
__all__ += ["Average", "Dot", "Maximum", "Minimum", "Multiply", "Permute", "RepeatVector", "Rescaling", "Subtract",
            "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply", "subtract"]
__all__ += ["AveragePooling1D", "AveragePooling2D", "Conv1D", "Conv2D", "GlobalAveragePooling1D",
            "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPooling1D", "MaxPooling2D",
            "Reshape", "SpatialDropout1D", "SpatialDropout2D", "UpSampling1D", "UpSampling2D", "ZeroPadding1D",
            "ZeroPadding2D"]
