"""Keras 3's own `.keras` files, both ways.

A Keras 3 file is a zip archive holding
  metadata.json      {"keras_version": ..., "date_saved": ...}
  config.json        the model as Keras serializes it: {"module", "class_name", "config", "registered_name",
                     "build_config", "compile_config"}; a functional model lists its layers with their
                     "inbound_nodes" (calls on tensors named by [layer name, node index, tensor index])
  model.weights.h5   HDF5: layers/<path>/vars/<i> per layer (its trainable-created variables, then the
                     others), optimizer/vars/<i> (iteration, learning_rate, then the slot variables),
                     where <path> is the layer's class name in snake_case, numbered _1, _2, ... among
                     layers of one class in the order of model.layers
This module maps those to fitcore's models and back. Nothing in the file is executed: classes are
looked up by name in the tables below (one entry per Keras class), every config key is either
understood or must be switched off, and every array's shape is checked against the model the
config describes before its data is read, the architecture itself being held to the weights the
HDF5 file can actually carry (so a lying file cannot make fitcore allocate what it declares).
"""
import datetime
import inspect
import io
import json
import os
import re
import shutil
import struct
import tempfile
import zipfile
import zlib

import numpy as np

WEIGHTS_ENTRY = "model.weights.h5"
KERAS_VERSION = "3.15.1"  # the Keras whose format this writes (and is tested against)
_ENTRIES = ("metadata.json", "config.json", WEIGHTS_ENTRY)
_MAX_DEFLATE_RATIO = 1032  # no deflated stream expands more than this: a larger declared size is a lie
_COPY_CHUNK = 1 << 20


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("Keras .keras files need h5py: install fitcore's `keras` extra "
                          "(pip install 'fitcore[keras]'), or save in fitcore's own format with a '.fitcore' "
                          "suffix") from None
    return h5py


def is_keras_archive(names):
    """Whether a zip archive with these entry names is a Keras 3 file (fitcore's own files never hold
    model.weights.h5)."""
    return WEIGHTS_ENTRY in names


# --- objects: Keras's {"module", "class_name", "config"} and fitcore's classes ------------------
def _keras_object(module, class_name, config):
    return {"module": module, "class_name": class_name, "config": config, "registered_name": None}


def _is_keras_object(value):
    return isinstance(value, dict) and "class_name" in value and "config" in value


_DTYPE_POLICY = _keras_object("keras", "DTypePolicy", {"name": "float32"})


def _check_dtype_policy(value, where):
    """fitcore computes in float32: the only dtype policy it can honour."""
    name = value
    if _is_keras_object(value) and isinstance(value["config"], dict):
        name = value["config"].get("name")
    if name not in (None, "float32"):
        raise ValueError(f"{where}: dtype policy {name!r} is not supported (fitcore computes in float32)")


def _accepted_arguments(cls):
    """The keyword arguments cls(...) takes, following **kwargs up the base classes."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        parameters = inspect.signature(init).parameters.values()
        names.update(p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            break
    names.discard("self")
    return names


def _build(cls, config, where, convert=None, ignore=None, extra=()):
    """cls(**arguments) from a Keras config: keys cls takes are passed (through convert(key, value)),
    keys in `ignore` must hold the given value, and any other key must be switched off (None/False)."""
    if not isinstance(config, dict):
        raise ValueError(f"{where}: the config must be an object, got {_short(config)}")
    accepted = _accepted_arguments(cls) | set(extra)
    arguments = {}
    for key, value in config.items():
        if key in (ignore or {}):
            if value != ignore[key]:
                raise ValueError(f"{where}: `{key}`={_short(value)} is not supported by fitcore "
                                 f"(only {ignore[key]!r})")
        elif key in accepted:
            arguments[key] = convert(key, value) if convert else value
        elif value not in (None, False):
            raise ValueError(f"{where}: `{key}`={_short(value)} is not supported by fitcore")
    try:
        return cls(**arguments)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: fitcore cannot build {cls.__name__} from this config: {error}") from None


def _fitcore_class(module, class_name, base, where, kind):
    cls = getattr(module, class_name, None) if isinstance(class_name, str) and not class_name.startswith("_") \
        else None
    if not isinstance(cls, type) or not issubclass(cls, base) or cls is base:
        raise ValueError(f"{where}: Keras {kind} {class_name!r} is not supported by fitcore")
    return cls


def _activation(value, where):
    from fitcore import activations

    if _is_keras_object(value) and value["class_name"] == "function":  # a built-in named as a function
        value = value["config"]
    try:
        return activations.get(value)
    except ValueError:
        raise ValueError(f"{where}: Keras activation {_short(value)} is not supported by fitcore; it has "
                         f"{', '.join(activations.NAMES)}") from None


def _initializer(value, where):
    from fitcore import initializers

    if isinstance(value, str):
        if not _known(initializers.get, value):
            _unsupported(where, "initializer", value)
        return initializers.get(value)
    if not _is_keras_object(value):
        raise ValueError(f"{where}: expected a Keras initializer, got {_short(value)}")
    cls = initializers._BY_CLASS_NAME.get(value["class_name"])
    if cls is None:
        _unsupported(where, "initializer", value["class_name"])
    config = dict(value["config"]) if isinstance(value["config"], dict) else value["config"]
    if isinstance(config, dict) and "seed" not in _accepted_arguments(cls):
        config.pop("seed", None)  # only the first draw depends on it, and the file carries the weights
    return _build(cls, config, f"{where} ({value['class_name']})")


def _regularizer(value, where):
    from fitcore import regularizers

    if value is None:
        return None
    if isinstance(value, str):
        if not _known(regularizers.get, value):
            _unsupported(where, "regularizer", value)
        return regularizers.get(value)
    if not _is_keras_object(value):
        raise ValueError(f"{where}: expected a Keras regularizer, got {_short(value)}")
    cls = regularizers._BY_CLASS_NAME.get(value["class_name"])
    if cls is None:
        _unsupported(where, "regularizer", value["class_name"])
    return _build(cls, value["config"], f"{where} ({value['class_name']})")


def _known(get, name):
    try:
        get(name)
        return True
    except ValueError:
        return False


def _unsupported(where, kind, name):
    raise ValueError(f"{where}: Keras {kind} {name!r} is not supported by fitcore")


def _layer_argument(where):
    """Converts the Keras form of a layer argument to fitcore's, by the argument's name."""
    def convert(key, value):
        if key == "activation":
            return _activation(value, f"{where}.{key}")
        if key.endswith("_initializer"):
            return _initializer(value, f"{where}.{key}")
        if key.endswith("_regularizer"):
            return _regularizer(value, f"{where}.{key}")
        return value
    return convert


def _keras_argument(value):
    """A fitcore layer's get_config() value in Keras's form (initializers and regularizers as objects)."""
    from fitcore import initializers, regularizers

    if isinstance(value, initializers.Initializer):
        return _keras_object("keras.initializers", type(value).__name__, value.get_config())
    if isinstance(value, regularizers.Regularizer):
        return _keras_object("keras.regularizers", type(value).__name__, value.get_config())
    return value


# --- the layer table ---------------------------------------------------------------------------
class KerasLayer:
    """How one Keras layer class maps to a fitcore layer (same arguments unless said otherwise).

    Args:
        fitcore_name: the class's name in `fitcore.layers`.
        ignore: {Keras config key: the only value fitcore accepts} for options fitcore lacks.
        weights_from_keras: maps the layer's Keras variables (list of arrays) to fitcore's order/layout
            (default: the same).
        weights_to_keras: the inverse.
    """

    def __init__(self, fitcore_name, ignore=None, weights_from_keras=None, weights_to_keras=None):
        self.fitcore_name = fitcore_name
        self.ignore = dict(ignore or {})
        self.weights_from_keras = weights_from_keras or (lambda arrays: arrays)
        self.weights_to_keras = weights_to_keras or (lambda arrays: arrays)

    def fitcore_class(self):
        import fitcore.layers

        return getattr(fitcore.layers, self.fitcore_name, None)

    def from_keras(self, config, where):
        """The fitcore layer for a Keras layer config."""
        config = dict(config)
        _check_dtype_policy(config.pop("dtype", None), where)
        return _build(self.fitcore_class(), config, where, _layer_argument(where), self.ignore)

    def to_keras(self, layer):
        """The Keras config of a fitcore layer."""
        config = {key: _keras_argument(value) for key, value in layer.get_config().items()}
        config["dtype"] = _DTYPE_POLICY
        return config


# One entry per Keras class (a layer added to fitcore with Keras's arguments needs one line here; a
# layer whose weights Keras lays out differently also gives weights_from_keras / weights_to_keras).
LAYERS = {
    "Dense": KerasLayer("Dense", ignore={"kernel_constraint": None, "bias_constraint": None,
                                         "activity_regularizer": None, "quantization_config": None,
                                         "lora_rank": None}),
    "Activation": KerasLayer("Activation"),
    "Dropout": KerasLayer("Dropout"),
    "GaussianNoise": KerasLayer("GaussianNoise"),
    "Flatten": KerasLayer("Flatten"),
    "Concatenate": KerasLayer("Concatenate"),
    "Add": KerasLayer("Add"),
    "BatchNormalization": KerasLayer("BatchNormalization", ignore={
        "beta_constraint": None, "gamma_constraint": None, "synchronized": False, "renorm": False,
        "renorm_clipping": None, "renorm_momentum": 0.99}),
    "Embedding": KerasLayer("Embedding", ignore={"embeddings_constraint": None, "activity_regularizer": None,
                                                 "quantization_config": None, "lora_rank": None,
                                                 "input_length": None}),
    # Layers other branches add: an entry is inert until fitcore.layers has the class.
    "Multiply": KerasLayer("Multiply"),
    "Subtract": KerasLayer("Subtract"),
    "Average": KerasLayer("Average"),
    "Maximum": KerasLayer("Maximum"),
    "Minimum": KerasLayer("Minimum"),
    "Dot": KerasLayer("Dot"),
    "Permute": KerasLayer("Permute"),
    "RepeatVector": KerasLayer("RepeatVector"),
    "Rescaling": KerasLayer("Rescaling"),
    # Convolution and the layers around it take Keras's arguments (refusing values they lack) and
    # keep Keras's kernel layout (kh, kw, in, out).
    **{name: KerasLayer(name) for name in (
        "Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
        "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
        "ZeroPadding1D", "ZeroPadding2D", "UpSampling1D", "UpSampling2D", "Reshape")},
}


def _layer_entry(class_name, where):
    entry = LAYERS.get(class_name) if isinstance(class_name, str) else None
    if entry is None or entry.fitcore_class() is None:
        raise ValueError(f"{where}: Keras layer {class_name!r} is not supported by fitcore; it reads "
                         f"{', '.join(sorted(n for n, e in LAYERS.items() if e.fitcore_class()))} and InputLayer")
    return entry


def _keras_class_name(layer):
    name = type(layer).__name__
    if name not in LAYERS or LAYERS[name].fitcore_class() is not type(layer):
        raise ValueError(f"save: layer '{layer.name}' ({name}) has no Keras counterpart in fitcore's table; "
                         f"save the model in fitcore's own format ('.fitcore')")
    return name


def keras_snake_case(name):
    """Keras's naming.to_snake_case: how model.weights.h5 names a layer's group."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _weight_paths(class_names):
    """The HDF5 group of each layer, as Keras's _save_container_state numbers them."""
    used, paths = {}, []
    for class_name in class_names:
        name = keras_snake_case(class_name)
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        paths.append(f"layers/{name}")
    return paths


def _keras_order_weights(layer):
    """A layer's weights as Keras stores them: those created trainable, then the others."""
    return [w for w in layer._weights if w.trainable] + [w for w in layer._weights if not w.trainable]


# --- losses, metrics, optimizers ----------------------------------------------------------------
# Keras classes whose fitcore namesake means something else (keras.metrics.Accuracy is exact
# equality; fitcore's Accuracy is the "accuracy" string, resolved per output).
_NOT_THE_SAME = {"metric": {"Accuracy"}}


def _leaf(kind, value, where):
    """A loss or metric named in Keras's compile_config, as fitcore's compile() takes it."""
    from fitcore import losses, metrics

    module, base = (losses, losses.Loss) if kind == "loss" else (metrics, metrics.Metric)
    if _is_keras_object(value) and value["class_name"] == "function":
        value = value["config"]  # a built-in function, named
    if isinstance(value, str):
        if not _known(module.get, value):
            _unsupported(where, kind, value)
        return value
    if not _is_keras_object(value):
        raise ValueError(f"{where}: expected a Keras {kind}, got {_short(value)}")
    if value["class_name"] in _NOT_THE_SAME.get(kind, ()):
        _unsupported(where, kind, value["class_name"])
    cls = _fitcore_class(module, value["class_name"], base, where, kind)
    config = value["config"]
    if isinstance(config, dict) and config.get("dtype") in (None, "float32"):  # fitcore accumulates in double
        config = {k: v for k, v in config.items() if k != "dtype"}
    return _build(cls, config, f"{where} ({value['class_name']})", ignore={"axis": -1})


def _per_output(kind, value, where, nested):
    """compile_config's loss/metrics: one entry, a list, a dict by output name, or (metrics of several
    outputs) lists of lists."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_per_output(kind, v, f"{where}[{i}]", False) if nested and isinstance(v, list)
                else (None if v is None else _leaf(kind, v, f"{where}[{i}]")) for i, v in enumerate(value)]
    if isinstance(value, dict) and not _is_keras_object(value):
        return {k: _per_output(kind, v, f"{where}[{k!r}]", True) for k, v in value.items()}
    return _leaf(kind, value, where)


def _schedule(value, where):
    from fitcore.optimizers import schedules

    if not _is_keras_object(value):
        return value
    cls = _fitcore_class(schedules, value["class_name"], schedules.LearningRateSchedule, where,
                         "learning-rate schedule")
    return _build(cls, value["config"], f"{where} ({value['class_name']})")


def _optimizer(value, where):
    from fitcore import optimizers
    from fitcore.optimizers.optimizer import _KERAS_ONLY

    if isinstance(value, str):
        if not _known(optimizers.get, value):
            _unsupported(where, "optimizer", value)
        return optimizers.get(value)
    if not _is_keras_object(value):
        raise ValueError(f"{where}: expected a Keras optimizer, got {_short(value)}")
    if value["class_name"] not in OPTIMIZER_SLOTS:
        _unsupported(where, "optimizer", value["class_name"])
    cls = _fitcore_class(optimizers, value["class_name"], optimizers.Optimizer, where, "optimizer")
    return _build(cls, value["config"], f"{where} ({value['class_name']})",
                  lambda key, v: _schedule(v, f"{where}.learning_rate") if key == "learning_rate" else v,
                  extra=_KERAS_ONLY)


# The optimizers' slot variables as Keras creates them: groups in order; within a group, for each
# trainable variable, one variable per slot. Each slot is (Keras's name, the core's state name);
# `when` says from the optimizer's config whether the group exists, `initial` its starting value.
class SlotGroup:
    """One `add_optimizer_variables` call of a Keras optimizer.

    Args:
        slots: ((Keras slot name, fitcore core state name), ...), interleaved per variable.
        when: config -> whether the optimizer has these slots.
        initial: config -> their value before the first step.
    """

    def __init__(self, slots, when=lambda config: True, initial=lambda config: 0.0):
        self.slots, self.when, self.initial = slots, when, initial


OPTIMIZER_SLOTS = {
    "SGD": (SlotGroup((("momentum", "momentums"),), when=lambda c: c["momentum"] != 0),),
    "Adam": (SlotGroup((("momentum", "momentums"), ("velocity", "velocities"))),
             SlotGroup((("velocity_hat", "velocity_hats"),), when=lambda c: c["amsgrad"])),
    "AdamW": (SlotGroup((("momentum", "momentums"), ("velocity", "velocities"))),
              SlotGroup((("velocity_hat", "velocity_hats"),), when=lambda c: c["amsgrad"])),
    "RMSprop": (SlotGroup((("velocity", "velocities"),)),
                SlotGroup((("momentum", "momentums"),), when=lambda c: c["momentum"] > 0),
                SlotGroup((("average_gradient", "average_gradients"),), when=lambda c: c["centered"])),
    "Adagrad": (SlotGroup((("accumulator", "accumulators"),),
                          initial=lambda c: c["initial_accumulator_value"]),),
}


def _slot_groups(optimizer):
    name = type(optimizer).__name__
    if name not in OPTIMIZER_SLOTS:
        raise ValueError(f"save: optimizer {name} has no Keras slot layout in fitcore's table; save the model "
                         f"in fitcore's own format ('.fitcore')")
    config = optimizer.get_config()
    return [g for g in OPTIMIZER_SLOTS[name] if g.when(config)], config


def _slot_arrays(model):
    """Every optimizer slot variable in Keras's order: views of the core's state, or (no step taken yet)
    the values a fresh optimizer starts from."""
    optimizer = model.optimizer
    groups, config = _slot_groups(optimizer)
    variables = _keras_trainable_variables(model)
    core = model._core
    state = dict(core.optimizer_state()) if core is not None else None
    expected = [state_name for g in groups for _, state_name in g.slots]
    if state is not None and sorted(state) != sorted(expected):
        raise ValueError(f"save: the optimizer's state {sorted(state)} does not match Keras's layout {expected}")
    offsets = _offsets(model, variables) if state is not None else None
    slots = []
    for group in groups:
        for w in variables:
            for _, state_name in group.slots:
                if state is None:
                    slots.append(np.full(w.shape, group.initial(config), np.float32))
                else:
                    start = offsets[id(w)]
                    slots.append(state[state_name][start:start + w.size].reshape(w.shape))
    return slots


def _offsets(model, weights):
    """Each trainable weight's offset in the core's flat buffers (the optimizer's state has its layout)."""
    return {id(w): model._weight_offset(w) for w in weights}


# --- the graph, in Keras's order ----------------------------------------------------------------
def _keras_layers(model):
    """A fitcore model's layers as Keras lists model.layers (a functional model's InputLayers included)."""
    from fitcore.models.sequential import Sequential

    if isinstance(model, Sequential):
        return list(model.layers)
    return _functional_order(model)


def _functional_order(model):
    """Keras's Functional.operations for this graph (keras/src/ops/function.py map_graph): the layers by
    decreasing depth from the outputs, ties broken by first visit in a depth-first walk from the outputs."""
    outputs = model._outputs
    if _output_structure(model) == "dict":
        outputs = [t for _, t in sorted(zip(model.output_names, outputs), key=lambda p: p[0])]
    visit_index, finished, order = {}, set(), []
    for root in outputs:
        stack = [[root, 0]]
        while stack:
            frame = stack[-1]
            tensor, i = frame
            if i == 0:
                if id(tensor) in finished:
                    stack.pop()
                    continue
                visit_index.setdefault(id(tensor.layer), len(visit_index))
            if i < len(tensor.inputs):
                frame[1] += 1
                stack.append([tensor.inputs[i], 0])
            else:
                finished.add(id(tensor))
                order.append(tensor)
                stack.pop()
    node_depth, layer_depth, layers = {}, {}, {}
    for tensor in reversed(order):
        depth = max(node_depth.setdefault(id(tensor), 0), layer_depth.get(id(tensor.layer), 0))
        layer_depth[id(tensor.layer)] = node_depth[id(tensor)] = depth
        layers[id(tensor.layer)] = tensor.layer
        for parent in tensor.inputs:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for tensor in model._inputs:  # an input no output depends on still belongs to the model
        if id(tensor.layer) not in layer_depth:
            layer_depth[id(tensor.layer)], visit_index[id(tensor.layer)] = 0, -1
            layers[id(tensor.layer)] = tensor.layer
    return [layers[k] for k in sorted(layers, key=lambda k: (-layer_depth[k], visit_index[k]))]


def _keras_trainable_variables(model):
    """model.trainable_variables as Keras orders them (the optimizer's slots follow this order)."""
    return [w for layer in _keras_layers(model) if not _is_input(layer) and layer.trainable
            for w in _keras_order_weights(layer) if w.trainable]


def _is_input(layer):
    from fitcore.layers.input_layer import InputLayer

    return isinstance(layer, InputLayer)


def _output_structure(model):
    """'dict' when the model's outputs are named other than by their layers (fc.Model(outputs={...}))."""
    return "dict" if model.output_names != [t.layer.name for t in model._outputs] else "list"


# --- save ----------------------------------------------------------------------------------------
def save_model(model, filepath):
    """Writes `model` as a Keras 3 `.keras` file (atomically) that keras.saving.load_model reads.

    Args:
        model: a built fitcore model whose layers, losses, metrics and optimizer have Keras
            counterparts in this module's tables.
        filepath: the destination, ending in '.keras'.

    Returns:
        None.
    """
    from fitcore import __version__
    from fitcore.saving.weights import atomic_write

    h5py = _h5py()
    if not model.built:
        raise ValueError("save: the model has no weights yet; give it an fc.Input(...) first, call "
                         "build(input_shape), or fit it on data")
    config = _model_config(model)
    if model.compiled:
        config["compile_config"] = _compile_config(model)
    weights = io.BytesIO()
    with h5py.File(weights, "w") as h5:
        _write_weights(model, h5)
    metadata = {"keras_version": KERAS_VERSION, "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
                "fitcore_version": __version__}

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr("metadata.json", json.dumps(metadata))
            archive.writestr("config.json", json.dumps(config))
            archive.writestr(WEIGHTS_ENTRY, weights.getvalue())

    atomic_write(os.fspath(filepath), write)


def _input_entry(layer):
    return {"module": "keras.layers", "class_name": "InputLayer",
            "config": {"batch_shape": [None, *layer.shape], "dtype": layer.dtype, "sparse": False, "ragged": False,
                       "name": layer.name, "optional": False},
            "registered_name": None}


def _layer_entry_config(layer, input_shape):
    class_name = _keras_class_name(layer)
    entry = {"module": "keras.layers", "class_name": class_name, "config": LAYERS[class_name].to_keras(layer),
             "registered_name": None}
    if layer._weights:
        entry["build_config"] = {"input_shape": _batch_shape(input_shape)}
    return entry


def _batch_shape(shape):
    if isinstance(shape, list):
        return [_batch_shape(s) for s in shape]
    return [None, *shape]


def _model_config(model):
    from fitcore.models.sequential import Sequential

    if isinstance(model, Sequential):
        layers = model.layers
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError("save: a Sequential model that repeats a layer has no Keras Sequential form; save it "
                             "in fitcore's own format ('.fitcore') or build it as a functional model")
        shape = _batch_shape(model._input.layer.shape)
        entries = [_input_entry(model._input.layer)] + [_layer_entry_config(layer, layer.input_shape)
                                                         for layer in layers]
        return {"module": "keras", "class_name": "Sequential",
                "config": {"name": model.name, "trainable": True, "dtype": _DTYPE_POLICY, "layers": entries,
                           "build_input_shape": shape},
                "registered_name": None, "build_config": {"input_shape": shape}}
    nodes = {}  # id(tensor) -> [layer name, node index, 0]
    calls = {}  # id(layer) -> its inbound nodes
    from fitcore.models.graph import trace

    for tensor in trace(model._inputs, model._outputs):
        node_list = calls.setdefault(id(tensor.layer), [])
        nodes[id(tensor)] = [tensor.layer.name, len(node_list), 0]
        if tensor.inputs:
            args = [_keras_tensor(t, nodes) for t in tensor.inputs]
            node_list.append({"args": [args if getattr(tensor, "called_with_list", len(args) > 1) else args[0]],
                              "kwargs": {}})
    entries = []
    for layer in _functional_order(model):
        entry = _input_entry(layer) if _is_input(layer) else _layer_entry_config(layer, layer.input_shape)
        entry["name"] = layer.name
        entry["inbound_nodes"] = calls.get(id(layer), [])
        entries.append(entry)

    def ends(names, tensors, structure):
        refs = [nodes[id(t)] for t in tensors]
        if structure == "dict":
            return dict(zip(names, refs))
        return refs[0] if len(refs) == 1 else refs  # as Keras writes one tensor: a bare reference

    input_structure = "dict" if model.input_names != [t.layer.name for t in model._inputs] else "list"
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": model.name, "trainable": True, "layers": entries,
                       "input_layers": ends(model.input_names, model._inputs, input_structure),
                       "output_layers": ends(model.output_names, model._outputs, _output_structure(model))},
            "registered_name": "Functional", "build_config": {"input_shape": None}}


def _keras_tensor(tensor, nodes):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": [None, *tensor.shape[1:]], "dtype": tensor.dtype, "keras_history": nodes[id(tensor)]}}


def _compile_config(model):
    cfg = model._compile_config
    names = model.output_names

    def loss(value):
        return None if value is None else _keras_object("keras.losses", type(value).__name__, value.get_config())

    def metric(value):
        from fitcore.metrics import Accuracy

        if type(value) is Accuracy:  # Keras's "accuracy" string, resolved per output as fitcore's is
            return value.name if value.name in ("accuracy", "acc") else "accuracy"
        return _keras_object("keras.metrics", type(value).__name__, value.get_config())

    def per_output(values, each):
        if len(names) == 1:
            return each(values[0])
        return {name: each(v) for name, v in zip(names, values)}

    optimizer = model.optimizer
    _slot_groups(optimizer)  # refuses an optimizer Keras's layout table lacks
    opt_config = optimizer.get_config()
    if isinstance(opt_config.get("learning_rate"), dict):
        schedule = opt_config["learning_rate"]
        opt_config["learning_rate"] = _keras_object("keras.optimizers.schedules", schedule["class_name"],
                                                    schedule["config"])
    has_metrics = any(cfg.metrics)
    has_weighted = any(cfg.weighted_metrics)
    return {"optimizer": _keras_object("keras.optimizers", type(optimizer).__name__, opt_config),
            "loss": per_output(cfg.losses, loss),
            "loss_weights": None if all(w == 1.0 for w in cfg.loss_weights) else (
                [cfg.loss_weights[0]] if len(names) == 1 else dict(zip(names, cfg.loss_weights))),
            "metrics": per_output(cfg.metrics, lambda ms: [metric(m) for m in cfg.saved_metrics(ms)])
            if has_metrics else None,
            "weighted_metrics": per_output(cfg.weighted_metrics, lambda ms: [metric(m) for m in cfg.saved_metrics(ms)])
            if has_weighted else None}


def _write_weights(model, h5):
    layers = [layer for layer in _keras_layers(model)]
    for layer, path in zip(layers, _weight_paths(["InputLayer" if _is_input(layer) else _keras_class_name(layer)
                                                   for layer in layers])):
        group = h5.create_group(f"{path}/vars")
        group.attrs["name"] = layer.name
        if _is_input(layer):
            continue
        arrays = LAYERS[_keras_class_name(layer)].weights_to_keras([w.numpy() for w in _keras_order_weights(layer)])
        for i, array in enumerate(arrays):
            group.create_dataset(str(i), data=np.asarray(array, np.float32))
    h5.create_group("vars").attrs["name"] = model.name
    if not model.compiled:
        return
    group = h5.create_group("optimizer/vars")
    group.attrs["name"] = model.optimizer.name
    core = model._core
    leading = [np.asarray(int(core.iterations) if core is not None else 0, np.int64)]
    if model.optimizer._schedule is None:
        leading.append(np.asarray(model.optimizer.learning_rate, np.float32))
    for i, array in enumerate(leading + _slot_arrays(model)):
        group.create_dataset(str(i), data=np.asarray(array))


# --- load ----------------------------------------------------------------------------------------
def load_model(archive, members, filepath, compile):
    """The fitcore model a Keras 3 file describes (opened as `archive`, entries `members`), with its
    weights and, when compile is true and the file was compiled, its compile settings and optimizer state.

    Args:
        archive: the open zipfile.ZipFile.
        members: {entry name: ZipInfo}.
        filepath: the file's path, for messages.
        compile: whether to compile the model as it was saved.

    Returns:
        The fitcore model.
    """
    from fitcore.layers.layer import weight_budget
    from fitcore.saving.model_file import _json

    strange = sorted(n for n in members if n not in _ENTRIES and not n.startswith("assets/"))
    if strange:
        raise ValueError(f"load_model: {filepath!r} holds unexpected entries {strange[:5]} for a Keras file")
    assets = sorted(n for n in members if n.startswith("assets/") and not n.endswith("/"))
    if assets:
        raise ValueError(f"load_model: {filepath!r} holds assets {assets[:5]}: no fitcore layer uses assets")
    h5py = _h5py()
    metadata, config = _json(archive, members, "metadata.json"), _json(archive, members, "config.json")
    if not isinstance(metadata.get("keras_version"), str) or not metadata["keras_version"].startswith("3."):
        raise ValueError(f"load_model: {filepath!r} is not a Keras 3 file (metadata.json names keras_version "
                         f"{_short(metadata.get('keras_version'))})")
    with tempfile.TemporaryDirectory(prefix="fitcore-keras-") as scratch:
        weights_path = os.path.join(scratch, "model.weights.h5")
        _copy_member(archive, members[WEIGHTS_ENTRY], weights_path)
        size = os.path.getsize(weights_path)
        try:
            h5 = h5py.File(weights_path, "r")
        except (OSError, ValueError) as error:
            raise ValueError(f"load_model: {WEIGHTS_ENTRY} in {filepath!r} is not a readable HDF5 file: "
                             f"{str(error)[:200]}") from None
        with h5:
            try:
                with weight_budget(size // 4):  # no more float32 weight values than the HDF5 file has bytes for
                    model, keras_layers = _rebuild(config)
            except (ValueError, TypeError) as error:
                raise ValueError(f"load_model: {filepath!r} describes a model fitcore cannot build: {error}") from None
            compile_config = config.get("compile_config") if compile else None
            try:
                _read_weights(h5, model, keras_layers, size)
                if compile_config:
                    _compile_from(model, compile_config)
                    _read_optimizer(h5, model, keras_layers, size)
            except (KeyError, RuntimeError, OSError) as error:  # what HDF5 raises on a damaged file
                raise ValueError(f"load_model: {WEIGHTS_ENTRY} in {filepath!r} is damaged: {str(error)[:200]}") \
                    from None
    return model


def _copy_member(archive, info, destination):
    """Copies a zip entry to a file in bounded memory, refusing a declared size no stream could have."""
    if info.flag_bits & 0x1:
        raise ValueError(f"load_model: {info.filename} is encrypted")
    if info.file_size > max(info.compress_size, 1) * _MAX_DEFLATE_RATIO or (
            info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size):
        raise ValueError(f"load_model: {info.filename} declares {info.file_size} bytes from {info.compress_size} "
                         f"stored: a corrupted or hostile archive")
    try:
        with archive.open(info) as source, open(destination, "wb") as target:
            shutil.copyfileobj(source, target, _COPY_CHUNK)  # zipfile stops at the declared size and checks the CRC
    except (zipfile.BadZipFile, EOFError, zlib.error, struct.error, NotImplementedError) as error:
        raise ValueError(f"load_model: {info.filename} cannot be read: {error}") from None
    if os.path.getsize(destination) != info.file_size:
        raise ValueError(f"load_model: {info.filename} is truncated")


def _rebuild(config):
    """(fitcore model, [(fitcore layer or InputLayer, Keras class name)] in Keras's model.layers order)."""
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise ValueError("config.json must hold {'class_name', 'config'} for the model")
    kind, body = config.get("class_name"), config["config"]
    if body.get("trainable", True) is not True:
        raise ValueError("a model saved with trainable=False is not supported; freeze its layers instead")
    _check_dtype_policy(body.get("dtype"), "model")
    if kind == "Sequential":
        return _rebuild_sequential(body)
    if kind in ("Functional", "Model"):
        return _rebuild_functional(body)
    raise ValueError(f"Keras model class {kind!r} is not supported by fitcore (Sequential and functional models "
                     f"are)")


def _input_from_keras(entry, where):
    from fitcore.saving.model_file import _input_args

    config = entry.get("config") if isinstance(entry, dict) else None
    if not isinstance(config, dict):
        raise ValueError(f"{where}: an InputLayer needs a config")
    shape = config.get("batch_shape", config.get("batch_input_shape"))
    if not isinstance(shape, list) or len(shape) < 2 or shape[0] is not None:
        raise ValueError(f"{where}: InputLayer `batch_shape` must be [null, sizes...], got {_short(shape)}")
    for key in ("sparse", "ragged", "optional"):
        if config.get(key):
            raise ValueError(f"{where}: InputLayer `{key}`=True is not supported by fitcore")
    return _input_args({"shape": shape[1:], "name": config.get("name"), "dtype": config.get("dtype", "float32")})


def _layer_from_keras(entry, where):
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError(f"{where}: expected a Keras layer {{'class_name', 'config'}}, got {_short(entry)}")
    return _layer_entry(entry.get("class_name"), where).from_keras(entry["config"], where)


def _rebuild_sequential(body):
    import fitcore as fc

    entries = body.get("layers")
    if not isinstance(entries, list):
        raise ValueError("Sequential `layers` must be a list")
    start, layers, keras_layers = [], [], []
    for i, entry in enumerate(entries):
        where = f"layers[{i}]"
        if isinstance(entry, dict) and entry.get("class_name") == "InputLayer":
            if i != 0:
                raise ValueError(f"{where}: an InputLayer may only come first")
            start = [fc.Input(**_input_from_keras(entry, where))]
            continue
        layer = _layer_from_keras(entry, where)
        layers.append(layer)
        keras_layers.append((layer, entry["class_name"]))
    if not start and isinstance(body.get("build_input_shape"), list):
        start = [fc.Input(**_input_from_keras({"config": {"batch_shape": body["build_input_shape"]}},
                                              "build_input_shape"))]
    try:
        model = fc.Sequential(start + layers, name=body.get("name"))
    except (TypeError, ValueError) as error:
        raise ValueError(f"the layers do not stack: {error}") from None
    return model, keras_layers


def _history(value, where):
    """[layer name, node index, tensor index] of a Keras tensor reference."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__" and isinstance(
            value.get("config"), dict):
        value = value["config"].get("keras_history")
    if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value[1:])):
        raise ValueError(f"{where}: expected a tensor reference [layer, node, tensor], got {_short(value)}")
    if value[2] != 0:
        raise ValueError(f"{where}: tensor {value[2]} of layer '{value[0]}': fitcore layers have one output")
    return value[0], value[1]


def _node_inputs(node, where):
    """(references, called with a list?) of one inbound node."""
    if not isinstance(node, dict) or not isinstance(node.get("args"), list) or len(node["args"]) != 1:
        raise ValueError(f"{where}: expected {{'args': [tensor or [tensors]], 'kwargs': {{}}}}, got {_short(node)}")
    kwargs = node.get("kwargs", {})
    if not isinstance(kwargs, dict) or any(
            not (k == "training" or (k == "mask" and v is None)) for k, v in kwargs.items()):
        raise ValueError(f"{where}: call arguments {_short(kwargs)} are not supported by fitcore")
    arg = node["args"][0]
    as_list = isinstance(arg, list) and not (len(arg) == 3 and isinstance(arg[0], str))
    refs = [_history(a, f"{where}.args[{i}]") for i, a in enumerate(arg)] if as_list else [_history(arg, where)]
    if not refs:
        raise ValueError(f"{where}: a call on no tensors")
    return refs, as_list


def _rebuild_functional(body):
    import fitcore as fc

    entries = body.get("layers")
    if not isinstance(entries, list) or not entries:
        raise ValueError("Functional `layers` must be a non-empty list")
    layers, keras_layers, pending = {}, [], []  # pending: (layer name, node index, refs, as_list)
    outputs = {}  # (layer name, node index) -> tensor
    for i, entry in enumerate(entries):
        where = f"layers[{i}]"
        layer_config = entry.get("config") if isinstance(entry, dict) else None
        name = entry.get("name", layer_config.get("name") if isinstance(layer_config, dict) else None) \
            if isinstance(entry, dict) else None
        if not isinstance(name, str) or name in layers:
            raise ValueError(f"{where}: each layer needs its own name, got {_short(name)}")
        if entry.get("class_name") == "InputLayer":
            tensor = fc.Input(**_input_from_keras(entry, where))
            layers[name] = tensor.layer
            outputs[(name, 0)] = tensor
            keras_layers.append((tensor.layer, "InputLayer"))
            continue
        layer = _layer_from_keras(entry, where)
        if layer.name != name:
            raise ValueError(f"{where}: entry name {name!r} differs from its config's {layer.name!r}")
        layers[name] = layer
        keras_layers.append((layer, entry["class_name"]))
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            raise ValueError(f"{where}: `inbound_nodes` must be a list")
        pending.extend((name, k, *_node_inputs(node, f"{where}.inbound_nodes[{k}]")) for k, node in enumerate(nodes))
    _call_in_order(pending, layers, outputs)

    def ends(key):
        value = body.get(key)
        if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
            value = [value]
        if isinstance(value, dict):
            refs = {k: _history(v, f"{key}[{k!r}]") for k, v in value.items()}
        elif isinstance(value, list) and value:
            refs = [_history(v, f"{key}[{i}]") for i, v in enumerate(value)]
        else:
            raise ValueError(f"`{key}` must list tensor references")
        missing = [r for r in (refs.values() if isinstance(refs, dict) else refs) if r not in outputs]
        if missing:
            raise ValueError(f"`{key}` names tensors no layer makes: {missing[:5]}")
        return {k: outputs[r] for k, r in refs.items()} if isinstance(refs, dict) else [outputs[r] for r in refs]

    try:
        model = fc.Model(inputs=ends("input_layers"), outputs=ends("output_layers"), name=body.get("name"))
    except (TypeError, ValueError) as error:
        raise ValueError(f"the graph cannot be built: {error}") from None
    in_model = {id(layer) for layer in model.layers}
    return model, [(layer, c) for layer, c in keras_layers if id(layer) in in_model]


def _call_in_order(pending, layers, outputs):
    """Calls every layer on its inputs once those exist (Kahn's order: linear in the number of calls)."""
    waiting = {}  # (layer, node) -> indices of pending calls that need it
    missing = []
    for index, (_, _, refs, _) in enumerate(pending):
        needs = {r for r in refs if r not in outputs}
        missing.append(len(needs))
        for r in needs:
            waiting.setdefault(r, []).append(index)
    ready = [i for i, m in enumerate(missing) if m == 0]
    done = 0
    while ready:
        index = ready.pop()
        name, node, refs, as_list = pending[index]
        if (name, node) in outputs:
            raise ValueError(f"layer '{name}' lists node {node} twice")
        args = [outputs[r] for r in refs]
        outputs[(name, node)] = layers[name](args if as_list else args[0])
        done += 1
        for j in waiting.pop((name, node), []):
            missing[j] -= 1
            if missing[j] == 0:
                ready.append(j)
    if done != len(pending):
        made = set(outputs) | {(name, node) for name, node, _, _ in pending}
        missing = sorted(r for r in waiting if r not in made)
        if missing:
            raise ValueError(f"the graph refers to tensors no layer makes: {missing[:5]}")
        raise ValueError(f"the graph has a cycle through {sorted({name for name, _ in waiting})[:5]}")


def _item(h5, path):
    """h5[path] when every step of the path is a plain (hard) link, else None: soft and external links
    could reach other objects or other files, which no Keras file uses."""
    h5py = _h5py()
    node = h5
    for part in path.split("/"):
        if not isinstance(node, h5py.Group) or not isinstance(node.get(part, getlink=True), h5py.HardLink):
            return None
        node = node[part]
    return node


def _dataset(group, key, shape, size, where, dtype_kinds="f"):
    """group[key] as an array of `shape`, its shape, type and declared size checked before it is read."""
    h5py = _h5py()
    item = _item(group, key) if group is not None else None
    if not isinstance(item, h5py.Dataset):
        raise ValueError(f"load_model: {WEIGHTS_ENTRY} lacks {where}")
    if item.external or item.is_virtual:  # its data would come from other files
        raise ValueError(f"load_model: {where} keeps its data outside {WEIGHTS_ENTRY}")
    if tuple(item.shape) != tuple(shape) or item.dtype.kind not in dtype_kinds:
        raise ValueError(f"load_model: {where} holds {item.dtype} {tuple(item.shape)}, expected "
                         f"{'float' if dtype_kinds == 'f' else 'int'} {tuple(shape)}")
    if item.size * item.dtype.itemsize > size:
        raise ValueError(f"load_model: {where} declares more bytes than {WEIGHTS_ENTRY} holds")
    try:
        return item[()]
    except (OSError, ValueError, TypeError) as error:
        raise ValueError(f"load_model: {where} cannot be read: {str(error)[:200]}") from None


def _vars_group(h5, path, where, count):
    h5py = _h5py()
    group = _item(h5, f"{path}/vars")
    if group is None and count == 0:
        return None
    if not isinstance(group, h5py.Group):
        raise ValueError(f"load_model: {WEIGHTS_ENTRY} lacks {where}")
    if len(group) != count:
        raise ValueError(f"load_model: {where} holds {len(group)} variables, the layer has {count}")
    return group


def _read_weights(h5, model, keras_layers, size):
    """Every layer's weights, checked before any is assigned (the model is never half-loaded)."""
    values = []
    for (layer, class_name), path in zip(keras_layers, _weight_paths([c for _, c in keras_layers])):
        if _is_input(layer):
            continue
        weights = _keras_order_weights(layer)
        entry = LAYERS[class_name]
        group = _vars_group(h5, path, f"{path}/vars (layer '{layer.name}')", len(weights))
        shapes = entry.weights_to_keras([np.empty(w.shape, np.float32) for w in weights])
        arrays = [_dataset(group, str(i), s.shape, size, f"{path}/vars/{i} (layer '{layer.name}')")
                  for i, s in enumerate(shapes)]
        values.extend(zip(weights, entry.weights_from_keras(arrays)))
    for weight, value in values:
        weight.assign(np.asarray(value, np.float32))


def _compile_from(model, config):
    where = "compile_config"
    if not isinstance(config, dict):
        raise ValueError(f"load_model: {where} must be an object")
    known = {"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly",
             "steps_per_execution", "jit_compile", "auto_scale_loss"}
    unknown = sorted(k for k, v in config.items() if k not in known and v not in (None, False))
    if unknown or config.get("steps_per_execution", 1) != 1:
        raise ValueError(f"load_model: {where} settings {unknown or ['steps_per_execution']} are not supported "
                         f"by fitcore")
    try:
        model.compile(optimizer=_optimizer(config.get("optimizer", "rmsprop"), f"{where}.optimizer"),
                      loss=_per_output("loss", config.get("loss"), f"{where}.loss", False),
                      loss_weights=config.get("loss_weights"),
                      metrics=_per_output("metric", config.get("metrics"), f"{where}.metrics", True),
                      weighted_metrics=_per_output("metric", config.get("weighted_metrics"),
                                                   f"{where}.weighted_metrics", True))
    except (TypeError, ValueError) as error:
        raise ValueError(f"load_model: {error}") from None


def _read_optimizer(h5, model, keras_layers, size):
    """The optimizer's iteration count, learning rate and slot variables (Keras's optimizer/vars)."""
    group = _item(h5, "optimizer/vars")
    if group is None or any(loss is None for loss in model._compile_config.losses):
        return
    optimizer = model.optimizer
    groups, config = _slot_groups(optimizer)
    variables = _keras_trainable_variables(model)
    leading = 1 if optimizer._schedule is not None else 2
    expected = leading + sum(len(g.slots) for g in groups) * len(variables)
    if len(group) not in (leading, expected):
        raise ValueError(f"load_model: optimizer/vars holds {len(group)} variables, {type(optimizer).__name__} "
                         f"over these weights has {expected}")
    iterations = _dataset(group, "0", (), size, "optimizer/vars/0 (iteration)", "iu")
    learning_rate = None if leading == 1 else _dataset(group, "1", (), size, "optimizer/vars/1 (learning_rate)")
    values = []  # none when Keras had not built its optimizer (no step yet): fitcore starts fresh
    if len(group) == expected:
        index = leading
        for g in groups:
            for w in variables:
                for _, state_name in g.slots:
                    values.append((w, state_name, _dataset(group, str(index), w.shape, size,
                                                           f"optimizer/vars/{index}")))
                    index += 1
    if int(iterations) < 0:
        raise ValueError("load_model: optimizer/vars/0 (iteration) is negative")
    if learning_rate is not None:
        optimizer.learning_rate = float(learning_rate)
    core = model._core_trainer("load_model")
    if values:
        state = dict(core.optimizer_state())
        offsets = _offsets(model, variables)
        for w, state_name, value in values:
            start = offsets[id(w)]
            state[state_name][start:start + w.size] = np.asarray(value, np.float32).reshape(-1)
    core.iterations = int(iterations)


# --- in memory -----------------------------------------------------------------------------------
def _keras():
    try:
        import keras
    except ImportError:
        raise ImportError("from_keras/to_keras need Keras 3 installed (pip install keras)") from None
    return keras


def from_keras(keras_model, compile=True):
    """The fitcore model equivalent to a Keras 3 model: architecture, weights and (compile=True, when
    compiled) compile settings and optimizer state.

    Args:
        keras_model: a keras.Model (Sequential or functional) of layers fitcore has.
        compile: whether to carry the compile settings and optimizer state over.

    Returns:
        The fitcore model.
    """
    from fitcore.saving.model_file import load_model as load

    keras = _keras()
    if not isinstance(keras_model, keras.Model):
        raise TypeError(f"from_keras: `keras_model` must be a keras.Model, got {type(keras_model).__name__}")
    with tempfile.TemporaryDirectory(prefix="fitcore-keras-") as scratch:
        path = os.path.join(scratch, "model.keras")
        keras_model.save(path)
        return load(path, compile=compile)


def to_keras(model, compile=True):
    """The Keras 3 model equivalent to a fitcore model (through a `.keras` file Keras itself loads).

    Args:
        model: a built fitcore model.
        compile: whether the Keras model gets the compile settings and optimizer state.

    Returns:
        The keras.Model.
    """
    keras = _keras()
    with tempfile.TemporaryDirectory(prefix="fitcore-keras-") as scratch:
        path = os.path.join(scratch, "model.keras")
        save_model(model, path)
        return keras.saving.load_model(path, compile=compile)


def _short(value, limit=120):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
