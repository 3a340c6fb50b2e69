"""Activation names; their math lives in the core (cpp/src/activations.cpp)."""

NAMES = ("linear", "relu", "sigmoid", "tanh", "softmax", "gelu", "elu", "silu", "softplus")
_ALIASES = {None: "linear", "swish": "silu"}


def get(identifier):
    """Resolves an activation name (None means linear); ValueError lists the valid names."""
    if identifier in _ALIASES:
        return _ALIASES[identifier]
    if isinstance(identifier, str) and identifier.lower() in NAMES:
        return identifier.lower()
    raise ValueError(f"Unknown activation {identifier!r}; valid activations are: {', '.join(NAMES)}")
