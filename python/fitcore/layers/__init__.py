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
from fitcore.layers.conv import Conv1D, Conv2D
from fitcore.layers.pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
                                    GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)
from fitcore.layers.reshaping import Reshape, UpSampling1D, UpSampling2D, ZeroPadding1D, ZeroPadding2D
from fitcore.layers.spatial_dropout import SpatialDropout1D, SpatialDropout2D

__all__ = ["Activation", "Add", "BatchNormalization", "Concatenate", "Dense", "Dropout", "Embedding", "Flatten",
           "GaussianNoise", "Input", "InputLayer", "Layer", "SymbolicTensor", "Weight"]
__all__ += ["AveragePooling1D", "AveragePooling2D", "Conv1D", "Conv2D", "GlobalAveragePooling1D",
            "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPooling1D", "MaxPooling2D",
            "Reshape", "SpatialDropout1D", "SpatialDropout2D", "UpSampling1D", "UpSampling2D", "ZeroPadding1D",
            "ZeroPadding2D"]
