"""Pooling layers over channels_last feature maps: windowed max / average (the core's `pooling`
op) and global max / average (`global_pooling`)."""
from fitcore.data.validation import check_bool, check_data_format, check_int_tuple, check_padding
from fitcore.layers.layer import Layer
from fitcore.layers.spatial import check_rank, height_first, keras_name, spatial_output


class BasePooling(Layer):
    """The shared part of the windowed pooling layers (`rank` spatial axes, `mode` max or average)."""

    kind = "pooling"
    rank = None
    mode = None

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**keras_name(kwargs, type(self)))
        cls = type(self).__name__
        self.pool_size = check_int_tuple("pool_size", pool_size, self.rank, owner=cls)
        self.strides = check_int_tuple("strides", pool_size if strides is None else strides, self.rank, owner=cls)
        self.padding = check_padding(padding, owner=cls)
        self.data_format = check_data_format(data_format, owner=cls)
        self._pads = None

    def _geometry(self, input_shape):
        check_rank(self, input_shape, self.rank)
        return spatial_output(self, input_shape, self.pool_size, self.strides, (1,) * self.rank, self.padding,
                              "pool_size")

    def compute_output_shape(self, input_shape):
        return self._geometry(input_shape)[0] + (input_shape[-1],)

    def build(self, input_shape):
        _, self._pads = self._geometry(input_shape)

    def op_config(self):
        (ph, pw), (sh, sw) = height_first(self.pool_size, self.rank, 1), height_first(self.strides, self.rank, 1)
        pt, pl = height_first(self._pads, self.rank, 0)
        return ({"pool_h": ph, "pool_w": pw, "stride_h": sh, "stride_w": sw, "pad_top": pt, "pad_left": pl},
                {"mode": self.mode})

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "padding": self.padding,
                "strides": list(self.strides), "data_format": self.data_format}


_POOL_ARGS = """
    Args:
        pool_size: window size{size}.
        strides: steps between windows{size}; None (default) means `pool_size`.
        padding: "valid" (whole windows only) or "same" (output ceil(size / strides) per axis; padded
            positions are ignored{same}).
        data_format: None or "channels_last" (the only layout supported).
        **kwargs: `name`, `trainable`.

    Returns:
        A layer without weights.
    """


class MaxPooling1D(BasePooling):
    """Maximum over windows of a sequence: (None, steps, channels) -> (None, new_steps, channels)."""

    __doc__ += _POOL_ARGS.format(size=" (an int or a tuple of one int); default 2", same="")
    rank, mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)


class MaxPooling2D(BasePooling):
    """Maximum over windows of an image: (None, height, width, channels) -> (None, new_h, new_w, channels)."""

    __doc__ += _POOL_ARGS.format(size=" (an int or a tuple of two); default (2, 2)", same="")
    rank, mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)


class AveragePooling1D(BasePooling):
    """Mean over windows of a sequence: (None, steps, channels) -> (None, new_steps, channels)."""

    __doc__ += _POOL_ARGS.format(size=" (an int or a tuple of one int); default 2",
                                 same=": the mean is over the window's positions inside the input")
    rank, mode = 1, "average"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)


class AveragePooling2D(BasePooling):
    """Mean over windows of an image: (None, height, width, channels) -> (None, new_h, new_w, channels)."""

    __doc__ += _POOL_ARGS.format(size=" (an int or a tuple of two); default (2, 2)",
                                 same=": the mean is over the window's positions inside the input")
    rank, mode = 2, "average"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)


_GLOBAL_ARGS = """

    Args:
        data_format: None or "channels_last" (the only layout supported).
        keepdims: keep the spatial axes with size 1. Default False.
        **kwargs: `name`, `trainable`.

    Returns:
        A layer without weights.
    """


class BaseGlobalPooling(Layer):
    """The shared part of the global pooling layers: every position of each channel reduced to one
    value, (None, ..., channels) -> (None, channels), or (None, 1, ..., 1, channels) with keepdims."""

    __doc__ += _GLOBAL_ARGS
    kind = "global_pooling"
    rank = None
    mode = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**keras_name(kwargs, type(self)))
        cls = type(self).__name__
        self.data_format = check_data_format(data_format, owner=cls)
        self.keepdims = check_bool("keepdims", keepdims, owner=cls)

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self.rank)
        return (1,) * self.rank + (input_shape[-1],) if self.keepdims else (input_shape[-1],)

    def op_config(self):
        return {}, {"mode": self.mode}

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over the steps of a sequence: (None, steps, channels) -> (None, channels)."""

    __doc__ += _GLOBAL_ARGS
    rank, mode = 1, "average"


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over the positions of an image: (None, height, width, channels) -> (None, channels)."""

    __doc__ += _GLOBAL_ARGS
    rank, mode = 2, "average"


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Maximum over the steps of a sequence: (None, steps, channels) -> (None, channels)."""

    __doc__ += _GLOBAL_ARGS
    rank, mode = 1, "max"


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Maximum over the positions of an image: (None, height, width, channels) -> (None, channels)."""

    __doc__ += _GLOBAL_ARGS
    rank, mode = 2, "max"
