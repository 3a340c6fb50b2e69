"""model.summary(): Keras 3's table of layers, output shapes and parameter counts, as plain text."""
from fitcore.layers.input_layer import InputLayer


def _size_text(count):
    """Bytes of `count` float32 values, as Keras prints them (B, KB, MB, GB with two decimals)."""
    size = float(count * 4)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024


def _shape_text(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _rows(model, functional):
    """(layer, output shape, inbound layer names) per layer call, in the order the calls run;
    functional models list their inputs too, as Keras does. A model used as a layer is one row
    (its first output's shape, its parameters), as Keras shows it."""
    from fitcore.models.graph import trace

    def owner(t):  # what the row of tensor t shows: the nested model it came from, or its layer
        return getattr(t, "nested_in", None) or t.layer

    rows, shown = [], set()
    for t in trace(model._inputs, model._outputs):
        entry = owner(t)
        if id(entry) in shown or (not functional and isinstance(entry, InputLayer)):
            continue
        if entry is t.layer:
            rows.append((entry, t.shape, [owner(i).name for i in t.inputs]))
            continue
        shown.add(id(entry))
        group = [u for u in trace(model._inputs, model._outputs) if owner(u) is entry]
        inbound = [owner(i).name for u in group for i in u.inputs if owner(i) is not entry]
        rows.append((entry, entry.outputs[0].shape, list(dict.fromkeys(inbound))))
    return rows


def summary_lines(model, line_length=None, show_trainable=False):
    from fitcore.models.sequential import Sequential

    functional = not isinstance(model, Sequential)
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if functional else []) + (
        ["Trainable"] if show_trainable else [])
    table = []
    for layer, shape, inbound in _rows(model, functional):
        row = [f"{layer.name} ({type(layer).__name__})", _shape_text(shape), f"{layer.count_params():,}"]
        if functional:
            row.append(", ".join(inbound) if inbound else "-")
        if show_trainable:
            row.append("Y" if layer.trainable else "N")
        table.append(row)
    widths = [max(len(h), *(len(r[c]) for r in table)) + 2 for c, h in enumerate(headers)]
    if line_length:
        widths[0] = max(widths[0], line_length - sum(widths[1:]))

    def line(cells):
        # Parameter counts align right, as Keras prints them; the rest align left.
        return " " + "".join(cell.rjust(w - 2) + "  " if c == 2 else cell.ljust(w)
                             for c, (cell, w) in enumerate(zip(cells, widths))).rstrip()

    rule_width = sum(widths) + 1
    trainable = sum(w.size for w in model.trainable_weights)
    frozen = sum(w.size for w in model.non_trainable_weights)
    lines = [f'Model: "{model.name}"', "_" * rule_width, line(headers), "=" * rule_width]
    for i, row in enumerate(table):
        lines.append(line(row))
        lines.append("_" * rule_width if i < len(table) - 1 else "=" * rule_width)
    lines += [f" Total params: {trainable + frozen:,} ({_size_text(trainable + frozen)})",
              f" Trainable params: {trainable:,} ({_size_text(trainable)})",
              f" Non-trainable params: {frozen:,} ({_size_text(frozen)})"]
    core = getattr(model, "_core", None)
    if core is not None:
        # Slot variables per trainable value (the core pads each weight's range: count unpadded).
        optimizer_values = len(core.optimizer_state()) * trainable
        lines.append(f" Optimizer params: {optimizer_values:,} ({_size_text(optimizer_values)})")
    return lines
