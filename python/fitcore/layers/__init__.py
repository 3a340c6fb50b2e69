"""Layers: configuration, shapes and weight names in Python; their math in the core."""
from fitcore.layers.activation import Activation
from fitcore.layers.dense import Dense
from fitcore.layers.input_layer import Input, InputLayer, SymbolicTensor
from fitcore.layers.layer import Layer, Weight

__all__ = ["Activation", "Dense", "Input", "InputLayer", "Layer", "SymbolicTensor", "Weight"]
