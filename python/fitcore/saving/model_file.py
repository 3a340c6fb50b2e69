"""Whole-model files: architecture, weights, compile settings and optimizer state.

A model file is a zip archive (written atomically: temporary name, then rename) holding
  metadata.json        format name and version, fitcore version, the core's random seed
  config.json          the architecture (layers by class name and config, the graph of calls), the
                       compile settings, and a manifest of every array's name and shape
  weights/NNNN.npy     model.weights in order (plain float32 .npy, never pickled)
  optimizer/NNNN.npy   the optimizer's slot variables, as the core holds them
Loading executes nothing from the file: JSON is parsed, classes are looked up by name among
fitcore's own (serialization.py), the zip directory's sizes are checked against the bytes
really present (npy.check_archive), and the weights the architecture declares must fit in those
bytes before any layer is built, so memory follows the file's real size, never what it claims.
The same bytes carry a model through pickle and copy.deepcopy (model_to_bytes / model_from_bytes).
"""
import io
import json
import os
import struct
import zipfile
import zlib

import numpy as np

from fitcore.saving import keras_format
from fitcore.saving.npy import check_archive, npy_bytes, read_array, read_text
from fitcore.saving.serialization import check_json_value, deserialize, serialize
from fitcore.saving.weights import atomic_write

FORMAT = "fitcore.model"
VERSION = 1
SUFFIXES = (".keras", ".fitcore")
_MAX_JSON_BYTES = 64 << 20
_MAX_SAMPLE_WIDTH = 1 << 31  # floats per sample in any tensor: beyond this no batch could be held


def _check_path(filepath, what):
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"{what}: `filepath` must be a path, got {type(filepath).__name__}")
    filepath = os.fspath(filepath)
    if not filepath.endswith(SUFFIXES):
        raise ValueError(f"{what}: `filepath` must end in {' or '.join(SUFFIXES)} (weights alone: save_weights "
                         f"with '.weights.npz'), got {filepath!r}")
    return filepath


# --- architecture ------------------------------------------------------------------------------
def _architecture(model):
    from fitcore.models.graph import trace
    from fitcore.models.sequential import Sequential

    if isinstance(model, Sequential):
        first = model._input.layer if model._input is not None else None
        return {"class_name": "Sequential", "name": model.name,
                "input": None if first is None else first.get_config(),
                "layers": [serialize(layer) for layer in model.layers]}
    tensors = trace(model._inputs, model._outputs)
    index = {id(t): i for i, t in enumerate(tensors)}
    nodes = []
    for t in tensors:
        if not t.inputs:
            nodes.append({"input": t.layer.get_config()})
        else:
            nodes.append({"layer": t.layer.name, "args": [index[id(i)] for i in t.inputs],
                          "as_list": bool(getattr(t, "called_with_list", len(t.inputs) > 1))})
    return {"class_name": "Functional", "name": model.name,
            "layers": [serialize(layer) for layer in model.layers], "nodes": nodes,
            "inputs": {name: index[id(t)] for name, t in zip(model.input_names, model._inputs)},
            "outputs": {name: index[id(t)] for name, t in zip(model.output_names, model._outputs)}}


def _rebuild(arch):
    import fitcore as fc

    kind = arch.get("class_name")
    if kind == "Sequential":
        layers = [deserialize("layer", spec, f"layers[{i}]") for i, spec in enumerate(_list(arch, "layers"))]
        start = [] if arch.get("input") is None else [fc.Input(**_input_args(arch["input"]))]
        return fc.Sequential(start + layers, name=arch.get("name"))
    if kind != "Functional":
        raise ValueError(f"config.json: unknown model class {kind!r}")
    layers = {}
    for i, spec in enumerate(_list(arch, "layers")):
        layer = deserialize("layer", spec, f"layers[{i}]")
        layers[layer.name] = layer
    tensors = []
    for i, node in enumerate(_list(arch, "nodes")):
        if not isinstance(node, dict):
            raise ValueError(f"config.json: nodes[{i}] must be an object")
        if "input" in node:
            tensors.append(fc.Input(**_input_args(node["input"])))
            continue
        args = node.get("args")
        if node.get("layer") not in layers or not isinstance(args, list) or not args or not all(
                isinstance(a, int) and 0 <= a < i for a in args):
            raise ValueError(f"config.json: nodes[{i}] must name a saved layer and earlier nodes")
        call_args = [tensors[a] for a in args]
        tensors.append(layers[node["layer"]](call_args if node.get("as_list") else call_args[0]))
    ends = {}
    for key in ("inputs", "outputs"):
        named = arch.get(key)
        if not isinstance(named, dict) or not named or not all(
                isinstance(i, int) and 0 <= i < len(tensors) for i in named.values()):
            raise ValueError(f"config.json: `{key}` must map names to node indices")
        ends[key] = {name: tensors[i] for name, i in named.items()}
    return fc.Model(inputs=ends["inputs"], outputs=ends["outputs"], name=arch.get("name"))


def _input_args(config):
    if not isinstance(config, dict):
        raise ValueError("config.json: an input must be an object")
    shape = config.get("shape")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d > 0 for d in shape) or float(
            np.prod(shape, dtype=np.float64)) > _MAX_SAMPLE_WIDTH:
        raise ValueError(f"config.json: input shape {shape!r} is not a list of sizes a batch could hold")
    return {"shape": tuple(shape), "name": config.get("name"), "dtype": config.get("dtype", "float32")}


def _list(arch, key):
    value = arch.get(key)
    if not isinstance(value, list):
        raise ValueError(f"config.json: `{key}` must be a list")
    return value


# --- compile settings --------------------------------------------------------------------------
def _compile_settings(model):
    cfg = model._compile_config
    if cfg is None:
        return None
    names = model.output_names

    def per_output(values, each):
        return {n: each(v) for n, v in zip(names, values)}

    return {"optimizer": serialize(cfg.optimizer),
            "loss": per_output(cfg.losses, lambda l: None if l is None else serialize(l)),
            "loss_weights": per_output(cfg.loss_weights, float),
            "metrics": per_output(cfg.metrics, lambda ms: [serialize(m) for m in cfg.saved_metrics(ms)]),
            "weighted_metrics": per_output(cfg.weighted_metrics,
                                           lambda ms: [serialize(m) for m in cfg.saved_metrics(ms)])}


def _compile_from(model, settings):
    def per_output(key, each):
        value = settings.get(key)
        if not isinstance(value, dict):
            raise ValueError(f"config.json: compile `{key}` must be an object keyed by output name")
        return {name: each(v, f"compile.{key}[{name!r}]") for name, v in value.items()}

    def metric_list(specs, where):
        if not isinstance(specs, list):
            raise ValueError(f"config.json: {where} must be a list")
        return [deserialize("metric", s, f"{where}[{i}]") for i, s in enumerate(specs)]

    model.compile(optimizer=deserialize("optimizer", settings.get("optimizer"), "compile.optimizer"),
                  loss=per_output("loss", lambda s, w: None if s is None else deserialize("loss", s, w)),
                  loss_weights=per_output("loss_weights", lambda v, w: v),
                  metrics=per_output("metrics", metric_list),
                  weighted_metrics=per_output("weighted_metrics", metric_list))


# --- save --------------------------------------------------------------------------------------
def save_model(model, filepath):
    """Writes `model` to `filepath` atomically (through a symlink; an existing file's permissions kept).

    Args:
        model: a built fitcore model.
        filepath: a path ending in '.keras' or '.fitcore'.
    """
    filepath = _check_path(filepath, "save")
    if not model.built:
        raise ValueError("save: the model has no weights yet; give it an fc.Input(...) first, call "
                         "build(input_shape), or fit it on data")
    atomic_write(filepath, lambda f: write_model(model, f))


def model_to_bytes(model):
    """The model file's bytes for `model` (built or not): what pickle and copy.deepcopy carry.

    Args:
        model: a fitcore model.

    Returns:
        bytes, loadable with model_from_bytes.
    """
    buffer = io.BytesIO()
    write_model(model, buffer)
    return buffer.getvalue()


def model_from_bytes(data):
    """The model that model_to_bytes wrote, compiled as it was, with its weights and optimizer state.

    Args:
        data: bytes from model_to_bytes.

    Returns:
        A new model.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"model_from_bytes: `data` must be bytes, got {type(data).__name__}")
    return _load_file(io.BytesIO(data), len(data), "<bytes>", compile=True)


def write_model(model, f):
    """Writes the model file's zip archive for `model` into `f`.

    Args:
        model: a fitcore model.
        f: a writable binary file object.
    """
    from fitcore import __version__

    core = model._core
    state = core.optimizer_state() if core is not None else []
    config = {"architecture": _architecture(model), "compile": _compile_settings(model),
              "weights": [{"name": w.name, "shape": list(w.shape)} for w in model.weights],
              "optimizer": None if core is None else {
                  "iterations": int(core.iterations),
                  "state": [{"name": name, "shape": list(view.shape)} for name, view in state]}}
    metadata = {"format": FORMAT, "version": VERSION, "fitcore_version": __version__,
                "seed": None if core is None else int(core.seed)}

    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("metadata.json", json.dumps(metadata, indent=1))
        archive.writestr("config.json", json.dumps(config, indent=1))
        for i, w in enumerate(model.weights):
            archive.writestr(f"weights/{i:04d}.npy", npy_bytes(w.numpy(), np.float32))
        for i, (_, view) in enumerate(state):
            archive.writestr(f"optimizer/{i:04d}.npy", npy_bytes(view, np.float32))


# --- load --------------------------------------------------------------------------------------
def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model saved by model.save(filepath), compiled as it was (compile=False: not compiled),
    with its weights, optimizer state and step count, so training continues as it would have.

    Reads fitcore's own files and Keras 3's `.keras` files alike, telling them apart by their
    entries (a Keras file holds model.weights.h5), not by the suffix.

    Args:
        filepath: a '.keras' file (Keras 3's format, or fitcore's own under that name) or a '.fitcore' file.
        custom_objects: not supported (fitcore files hold fitcore's own classes only).
        compile: whether to compile the model as it was saved.
        safe_mode: accepted for Keras compatibility; loading never runs code from the file.

    Returns:
        The model.

    Raises:
        ValueError: a file that is not a readable fitcore model file (damaged, hostile, Keras's own).
    """
    filepath = _check_path(filepath, "load_model")
    if custom_objects:
        raise ValueError("load_model: `custom_objects` is not supported: fitcore files hold fitcore's own "
                         "layers only")
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"load_model: no file at {filepath!r}")
    with open(filepath, "rb") as f:
        return _load_file(f, os.fstat(f.fileno()).st_size, filepath, compile)


def _load_file(f, real_size, filepath, compile):
    try:
        with zipfile.ZipFile(f) as archive:
            try:
                check_archive(archive, real_size)
            except ValueError as error:
                raise ValueError(f"load_model: {filepath!r} is not a readable model file: {error}") from None
            members = {info.filename: info for info in archive.infolist()}
            if keras_format.is_keras_archive(members):  # told apart by content, whatever the suffix
                return keras_format.load_model(archive, members, filepath, compile)
            return _load(archive, filepath, compile)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, UnicodeDecodeError, NotImplementedError,
            struct.error, zlib.error) as error:  # what a damaged archive makes zipfile raise
        raise ValueError(f"load_model: {filepath!r} is not a readable fitcore model file: {error}") from None


def _load(archive, filepath, compile):
    from fitcore.layers.layer import weight_budget

    members = {info.filename: info for info in archive.infolist()}
    strange = sorted(n for n in members if not _expected_member(n))
    if strange:
        raise ValueError(f"load_model: {filepath!r} holds unexpected entries {strange[:5]}")
    encrypted = sorted(n for n, info in members.items() if info.flag_bits & 0x1)  # fitcore never encrypts
    if encrypted:
        raise ValueError(f"load_model: {filepath!r} holds encrypted entries {encrypted[:5]}")
    metadata, config = _json(archive, members, "metadata.json"), _json(archive, members, "config.json")
    if metadata.get("format") != FORMAT or metadata.get("version") != VERSION:
        raise ValueError(f"load_model: {filepath!r} is not a fitcore model file of version {VERSION} "
                         f"(format {metadata.get('format')!r}, version {metadata.get('version')!r})")
    manifest = _manifest(config.get("weights"), "weights")
    # No layer may create more weight values than the file actually carries (check_archive has
    # bounded every declared size by the bytes present).
    present = sum(info.file_size for name, info in members.items() if name.startswith("weights/"))
    declared = sum(int(np.prod(shape, dtype=np.float64)) for _, shape in manifest)
    if declared * 4 > present:
        raise ValueError(f"load_model: {filepath!r} declares {declared} weight values but carries only "
                         f"{present} bytes of weights (truncated or corrupted)")
    try:
        with weight_budget(declared):
            model = _rebuild(config.get("architecture") if isinstance(config.get("architecture"), dict) else {})
    except (ValueError, TypeError) as error:  # layer constructors reject bad configs with TypeError too
        raise ValueError(f"load_model: {filepath!r} describes a model that cannot be built: {error}") from None
    weights = model.weights
    if [tuple(shape) for _, shape in manifest] != [w.shape for w in weights]:
        raise ValueError(f"load_model: the weights in {filepath!r} do not match its architecture")
    if weights:
        model.set_weights([_read_npy(archive, members, f"weights/{i:04d}.npy", w.shape)
                           for i, w in enumerate(weights)])

    settings = config.get("compile")
    if compile and settings is not None:
        if not isinstance(settings, dict):
            raise ValueError("config.json: `compile` must be an object")
        _compile_from(model, settings)
        _restore_optimizer(model, archive, members, config.get("optimizer"), metadata.get("seed"))
    return model


def _restore_optimizer(model, archive, members, saved, seed):
    if saved is None or any(loss is None for loss in model._compile_config.losses):
        return
    if not isinstance(saved, dict) or not isinstance(saved.get("iterations"), int) or \
            not 0 <= saved["iterations"] < 2**63:
        raise ValueError("config.json: `optimizer` must hold a non-negative int64 `iterations`")
    if isinstance(seed, int) and 0 <= seed < 2**63:
        model._next_core_seed = seed  # the same shuffles and dropout masks as the saved run would draw
    core = model._core_trainer("load_model")
    state = core.optimizer_state()
    manifest = _manifest(saved.get("state"), "optimizer.state")
    if [(name, tuple(shape)) for name, shape in manifest] != [(name, view.shape) for name, view in state]:
        raise ValueError("load_model: the saved optimizer state does not match the optimizer")
    values = [_read_npy(archive, members, f"optimizer/{i:04d}.npy", view.shape) for i, (_, view) in enumerate(state)]
    for (_, view), value in zip(state, values):
        view[...] = value
    core.iterations = saved["iterations"]


def _expected_member(name):
    if name in ("metadata.json", "config.json"):
        return True
    folder, _, file = name.partition("/")
    return folder in ("weights", "optimizer") and len(file) == 8 and file[:4].isdigit() and file.endswith(".npy")


def _json(archive, members, name):
    info = members.get(name)
    if info is None:
        raise ValueError(f"load_model: the file has no {name}: not a fitcore model file")
    if info.file_size > _MAX_JSON_BYTES:
        raise ValueError(f"load_model: {name} declares {info.file_size} bytes, more than a model description needs")
    text = read_text(archive, info, _MAX_JSON_BYTES)
    try:
        value = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise ValueError(f"load_model: {name} is not valid JSON: {str(error)[:200]}") from None
    if not isinstance(value, dict):
        raise ValueError(f"load_model: {name} must hold a JSON object")
    check_json_value(value, name)
    return value


def _manifest(entries, where):
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("shape"), list)
            and all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**40 for d in e["shape"])
            for e in entries):
        raise ValueError(f"config.json: `{where}` must list each array's name and shape")
    return [(e.get("name"), tuple(e["shape"])) for e in entries]


def _read_npy(archive, members, name, shape):
    """The array `name`, which must have `shape`; its header is checked before its data is read."""
    info = members.get(name)
    if info is None:
        raise ValueError(f"load_model: the file lacks {name} (truncated)")
    try:
        return read_array(archive, info, shape)
    except ValueError as error:
        raise ValueError(f"load_model: {error}") from None
