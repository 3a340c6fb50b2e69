"""Conv1D and Conv2D: channels_last convolutions computed by the core's `conv` op."""
from fitcore import activations, initializers, regularizers
from fitcore.data.validation import check_data_format, check_int_tuple, check_padding, check_positive_int
from fitcore.layers.layer import Layer
from fitcore.layers.spatial import check_rank, height_first, keras_name, spatial_output


class BaseConv(Layer):
    """The shared part of Conv1D and Conv2D (`rank` spatial axes); see those classes."""

    kind = "conv"
    rank = None

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**keras_name(kwargs, type(self)))
        cls, n = type(self).__name__, self.rank
        filters = check_positive_int("filters", filters, owner=cls)
        groups = check_positive_int("groups", groups, owner=cls)
        if filters % groups:
            raise ValueError(f"{cls}: `filters` ({filters}) must be divisible by `groups` ({groups})")
        for arg, value in (("activity_regularizer", activity_regularizer), ("kernel_constraint", kernel_constraint),
                           ("bias_constraint", bias_constraint)):
            if value is not None:
                raise ValueError(f"{cls}: `{arg}` is not supported by fitcore; pass None, got {value!r}")
        self.filters = filters
        self.kernel_size = check_int_tuple("kernel_size", kernel_size, n, owner=cls)
        self.strides = check_int_tuple("strides", strides, n, owner=cls)
        self.dilation_rate = check_int_tuple("dilation_rate", dilation_rate, n, owner=cls)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{cls}: `strides` > 1 cannot be combined with `dilation_rate` > 1 (as in Keras), got "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.padding = check_padding(padding, ("valid", "same", "causal") if n == 1 else ("valid", "same"), owner=cls)
        self.data_format = check_data_format(data_format, owner=cls)
        self.groups = groups
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")
        self._pads = None

    def _geometry(self, input_shape):
        check_rank(self, input_shape, self.rank)
        return spatial_output(self, input_shape, self.kernel_size, self.strides, self.dilation_rate, self.padding,
                              "kernel_size")

    def compute_output_shape(self, input_shape):
        return self._geometry(input_shape)[0] + (self.filters,)

    def build(self, input_shape):
        _, self._pads = self._geometry(input_shape)
        channels = input_shape[-1]
        if channels % self.groups:
            raise ValueError(f"{self.name}: the input's {channels} channels must be divisible by `groups` "
                             f"({self.groups})")
        self.kernel = self.add_weight("kernel", self.kernel_size + (channels // self.groups, self.filters),
                                      self.kernel_initializer, regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                        regularizer=self.bias_regularizer)

    def op_config(self):
        (kh, kw), (sh, sw) = height_first(self.kernel_size, self.rank, 1), height_first(self.strides, self.rank, 1)
        (dh, dw), (pt, pl) = height_first(self.dilation_rate, self.rank, 1), height_first(self._pads, self.rank, 0)
        return ({"kernel_h": kh, "kernel_w": kw, "stride_h": sh, "stride_w": sw, "dilation_h": dh, "dilation_w": dw,
                 "pad_top": pt, "pad_left": pl, "groups": self.groups, "use_bias": float(self.use_bias)},
                {"activation": self.activation})

    def get_config(self):
        # Tuples as lists: the config is what its JSON reads back as.
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "groups": self.groups, "activation": self.activation,
                "use_bias": self.use_bias, "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer), "activity_regularizer": None,
                "kernel_constraint": None, "bias_constraint": None}


class Conv1D(BaseConv):
    """1-D convolution over sequences (None, steps, channels) -> (None, new_steps, filters), as Keras 3's.

    Args:
        filters: number of output channels.
        kernel_size: window length (an int or a tuple of one int).
        strides: step between windows (an int or a tuple of one int). Default 1.
        padding: "valid" (whole windows only), "same" (output length ceil(steps / strides)) or
            "causal" (zeros before the sequence only, so step t sees steps <= t). Default "valid".
        data_format: None or "channels_last" (the only layout supported).
        dilation_rate: spacing between the window's taps; > 1 needs strides 1. Default 1.
        groups: splits the input and output channels into this many independent convolutions.
        activation: an activation name (None: linear).
        use_bias: whether a bias is added. Default True.
        kernel_initializer, bias_initializer: initializer names or instances.
        kernel_regularizer, bias_regularizer: `fc.regularizers` instances or None.
        activity_regularizer, kernel_constraint, bias_constraint: only None (not supported).
        **kwargs: `name`, `trainable`.

    Returns:
        A layer whose weights are kernel (kernel_size, in_channels / groups, filters) and bias (filters,).
    """

    rank = 1


class Conv2D(BaseConv):
    """2-D convolution over images (None, height, width, channels) -> (None, new_h, new_w, filters), as Keras 3's.

    Args:
        filters: number of output channels.
        kernel_size: window size, an int or a tuple (kernel_h, kernel_w).
        strides: steps between windows, an int or a tuple of two ints. Default (1, 1).
        padding: "valid" (whole windows only) or "same" (output ceil(size / strides) per axis). Default "valid".
        data_format: None or "channels_last" (the only layout supported).
        dilation_rate: spacing between the window's taps, an int or two; > 1 needs strides 1. Default (1, 1).
        groups: splits the input and output channels into this many independent convolutions.
        activation: an activation name (None: linear).
        use_bias: whether a bias is added. Default True.
        kernel_initializer, bias_initializer: initializer names or instances.
        kernel_regularizer, bias_regularizer: `fc.regularizers` instances or None.
        activity_regularizer, kernel_constraint, bias_constraint: only None (not supported).
        **kwargs: `name`, `trainable`.

    Returns:
        A layer whose weights are kernel (kernel_h, kernel_w, in_channels / groups, filters) and bias (filters,).
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, groups=groups, **kwargs)
