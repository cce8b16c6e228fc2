"""DropConnect: dropout of weights instead of activations.

Reference:
    Wan, Zeiler, Zhang, LeCun and Fergus, "Regularization of Neural
    Networks using DropConnect", ICML 2013.
    https://proceedings.mlr.press/v28/wan13.html

During training each kernel entry is zeroed with probability ``rate`` and
the kept ones are divided by ``1 - rate`` ("inverted" scaling), so the
expected kernel is the stored kernel and inference simply uses it: the
layer is then an ordinary `Dense` / `Conv2D`. (The paper keeps unscaled
weights and approximates inference by moment matching; with inverted
scaling the mean of that approximation is exactly the plain layer.) The
bias is not dropped.

Mask granularity. `DropConnectDense` draws one kernel mask per batch by
default: the cost is one random draw per weight and the usual matmul.
``per_example=True`` draws a mask per example as in the paper: a
``(batch, in, units)`` tensor and a batched matmul, ``batch`` times the
memory and compute of the kernel; use it for small layers.
`DropConnectConv2D` draws one mask per batch. Each layer says which in
its ``draws_per_example`` property, read by `mc_predict` (a per-batch mask
gives every stacked copy of an example the same draw).

Keras internals: none. The training branches below re-implement the few
lines of `Dense.call` / `Conv2D.call` that apply the kernel (a matmul or
the layer's own public `convolution_op`, then bias and activation) with a
masked kernel, through public attributes only (``kernel``, ``bias``,
``use_bias``, ``activation``, ``data_format``, ``quantization_mode``);
inference calls Keras's own `call`.

A scheduled rate and the generator's state are saved with the model
even though Keras's `Dense` and `Conv2D` save a fixed list of weights.

``channels_first``: TensorFlow's CPU `Conv2D` kernel runs only NHWC unless
oneDNN is on, so on TensorFlow `DropConnectConv2D` convolves
``channels_first`` inputs channels-last between two transposes (same
numbers, on any CPU and device).
"""

from __future__ import annotations

import keras
from keras import ops

from keras_regkit import _validation
from keras_regkit.layers import _common


def drop_connect_mask(shape, rate, seed=None, dtype="float32"):
    """The scaled DropConnect mask: 0 with probability ``rate``, else
    ``1 / (1 - rate)``.

    Args:
        shape: The mask's shape (the kernel's, or with a batch axis first).
        rate: Probability of dropping a weight, a float or scalar tensor in
            [0, 1).
        seed: A `keras.random.SeedGenerator` (or an int, or None).
        dtype: The mask's dtype.

    Returns:
        A tensor of shape ``shape``.

    Example:
    >>> mask = drop_connect_mask((200, 50), 0.25, seed=0)
    >>> values = sorted(set(keras.ops.convert_to_numpy(mask).ravel()))
    >>> [round(float(v), 4) for v in values]
    [0.0, 1.3333]
    """
    keep = 1.0 - ops.cast(rate, "float32")
    noise = keras.random.uniform(shape, dtype="float32", seed=seed)
    mask = ops.cast(noise < keep, "float32") / keep
    return ops.cast(mask, dtype)


@keras.saving.register_keras_serializable(package="keras_regkit")
class DropConnectDense(_common.DropRateMixin, keras.layers.Dense):
    """A `Dense` layer whose weights are dropped during training.

    Args:
        units: Dimensionality of the output space.
        rate: Probability of dropping each kernel weight, in [0, 1): a
            float or a schedule (`keras_regkit.schedules`), updated by
            `keras_regkit.callbacks.ScheduleCallback` without retracing.
        per_example: If False (default) one kernel mask is drawn per batch;
            if True one per example (``batch`` times the kernel's memory).
        seed: Integer seed of the layer's random generator.
        **kwargs: Any other argument of `keras.layers.Dense`
            (``activation``, ``use_bias``, initializers, regularizers...).

    Call arguments:
        inputs: A float tensor ``(batch, ..., in)``.
        training: Whether to drop weights (True inside `fit`); otherwise
            the layer is a plain `Dense` with the stored (expected) kernel.

    Input shape:
        ``(batch, ..., in)``.

    Output shape:
        ``(batch, ..., units)``.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> from keras_regkit.layers import DropConnectDense
    >>> layer = DropConnectDense(3, rate=0.5, seed=0)
    >>> x = np.ones((2, 4), "float32")
    >>> y = keras.ops.convert_to_numpy(layer(x))  # inference: plain Dense
    >>> kernel, bias = np.asarray(layer.kernel), np.asarray(layer.bias)
    >>> bool(np.allclose(y, x @ kernel + bias))
    True
    >>> tuple(layer(x, training=True).shape)
    (2, 3)
    >>> model = keras.Sequential([keras.Input((4,)), layer])
    >>> model.compile("sgd", "mse")
    >>> _ = model.fit(x, np.zeros((2, 3)), epochs=1, verbose=0)

    Reference:
        Wan et al., "Regularization of Neural Networks using DropConnect",
        ICML 2013.
    """

    def __init__(self, units, rate, per_example=False, seed=None, **kwargs):
        # Checked before Keras's `Dense`, which takes ``True`` as 1 unit.
        units = _validation.check_int("units", units, low=1, owner=self)
        super().__init__(units, **kwargs)
        self._init_rate_and_seed(rate, seed, track=False)
        self.per_example = _validation.check_bool(
            "per_example", per_example, owner=self
        )

    @property
    def draws_per_example(self) -> bool:
        """Whether each example gets its own mask (read by `mc_predict`)."""
        return self.per_example

    def call(self, inputs, training=None):
        _common.check_float_inputs(inputs, owner=self)
        if (
            not training
            or self._rate.is_zero()
            or self.quantization_mode is not None
        ):
            return super().call(inputs)
        kernel = ops.cast(self.kernel, self.compute_dtype)
        rate = self._rate.read("float32")
        if self.per_example:
            shape = (ops.shape(inputs)[0], *kernel.shape)
            mask = drop_connect_mask(
                shape, rate, self.seed_generator, kernel.dtype
            )
            x = ops.einsum("b...i,bij->b...j", inputs, kernel * mask)
        else:
            mask = drop_connect_mask(
                kernel.shape, rate, self.seed_generator, kernel.dtype
            )
            x = ops.matmul(inputs, kernel * mask)
        if self.bias is not None:
            x = ops.add(x, self.bias)
        if self.activation is not None:
            x = self.activation(x)
        return x

    def get_config(self):
        config = {
            **self._rate_and_seed_config(),
            "per_example": self.per_example,
        }
        return {**super().get_config(), **config}


def _check_kernel_size(kernel_size, owner=None):
    """``kernel_size``: an integer >= 1 or a pair of them, as plain ints."""
    expected = "an integer >= 1 or a pair of integers >= 1"
    pair = isinstance(kernel_size, (list, tuple))
    if pair and len(kernel_size) != 2:
        raise _validation.invalid(
            "kernel_size", expected, kernel_size, owner=owner
        )
    try:
        sizes = [
            _validation.check_int("kernel_size", size, low=1)
            for size in (kernel_size if pair else [kernel_size])
        ]
    except (TypeError, ValueError) as error:  # the message shows the pair
        raise _validation.invalid(
            "kernel_size", expected, kernel_size, owner=owner, error=type(error)
        ) from None
    return tuple(sizes) if pair else sizes[0]


@keras.saving.register_keras_serializable(package="keras_regkit")
class DropConnectConv2D(_common.DropRateMixin, keras.layers.Conv2D):
    """A `Conv2D` layer whose kernel weights are dropped during training.

    One kernel mask is drawn per batch (a per-example mask would need a
    grouped convolution per example). ``channels_first`` works on every
    backend and device: on TensorFlow the convolution runs channels-last
    between two transposes, since TensorFlow's CPU kernel has no NCHW
    version without oneDNN.

    Args:
        filters: Number of output channels.
        kernel_size: Size of the convolution window.
        rate: Probability of dropping each kernel weight, in [0, 1): a
            float or a schedule (`keras_regkit.schedules`), updated by
            `keras_regkit.callbacks.ScheduleCallback` without retracing.
        seed: Integer seed of the layer's random generator.
        **kwargs: Any other argument of `keras.layers.Conv2D` (``strides``,
            ``padding``, ``data_format``, ``activation``...).

    Call arguments:
        inputs: A float 4D tensor.
        training: Whether to drop weights (True inside `fit`); otherwise
            the layer is a plain `Conv2D` with the stored (expected)
            kernel.

    Input shape:
        ``(batch, height, width, channels)`` or
        ``(batch, channels, height, width)``.

    Output shape:
        As `keras.layers.Conv2D`.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> model = keras.Sequential([keras.Input((5, 7, 3)),
    ...     rk.layers.DropConnectConv2D(4, 3, rate=0.3, padding="same", seed=0),
    ...     keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> x = np.ones((2, 5, 7, 3), "float32")
    >>> _ = model.fit(x, np.zeros((2, 1)), epochs=1, verbose=0)
    >>> tuple(model.layers[0](x, training=True).shape)
    (2, 5, 7, 4)

    Reference:
        Wan et al., "Regularization of Neural Networks using DropConnect",
        ICML 2013.
    """

    # One mask per batch: `mc_predict` takes separate passes.
    draws_per_example = False

    def __init__(self, filters, kernel_size, rate, seed=None, **kwargs):
        # Checked before Keras's `Conv2D`, which takes ``filters=None``,
        # ``True`` as 1 and ``(0.5, 0.1)`` as a window, and whose own
        # errors do not name the argument.
        filters = _validation.check_int("filters", filters, low=1, owner=self)
        kernel_size = _check_kernel_size(kernel_size, owner=self)
        super().__init__(filters, kernel_size, **kwargs)
        self._init_rate_and_seed(rate, seed, track=False)

    def convolution_op(self, inputs, kernel):
        if keras.backend.backend() != "tensorflow":
            return super().convolution_op(inputs, kernel)
        if inputs.shape[0] == 0:
            # TensorFlow's Conv2D kernel (2.21) returns an empty batch with
            # the input's shape, not the output's (Keras's `Conv2D` then
            # fails adding the bias). Only a batch known to be empty when
            # traced is caught here.
            shape = self.compute_output_shape(inputs.shape)
            return ops.zeros(shape, dtype=inputs.dtype)
        if self.data_format == "channels_last":
            return super().convolution_op(inputs, kernel)
        # TensorFlow without oneDNN: "The Conv2D op currently only supports
        # the NHWC tensor format on the CPU".
        outputs = ops.conv(
            ops.transpose(inputs, (0, 2, 3, 1)),
            kernel,
            strides=list(self.strides),
            padding=self.padding,
            dilation_rate=self.dilation_rate,
            data_format="channels_last",
        )
        return ops.transpose(outputs, (0, 3, 1, 2))

    def call(self, inputs, training=None):
        _common.check_float_inputs(inputs, owner=self)
        if not training or self._rate.is_zero():
            return super().call(inputs)
        kernel = ops.cast(self.kernel, self.compute_dtype)
        mask = drop_connect_mask(
            kernel.shape,
            self._rate.read("float32"),
            self.seed_generator,
            kernel.dtype,
        )
        outputs = self.convolution_op(inputs, kernel * mask)
        if self.use_bias:
            if self.data_format == "channels_last":
                bias_shape = (1, 1, 1, self.filters)
            else:
                bias_shape = (1, self.filters, 1, 1)
            outputs = ops.add(outputs, ops.reshape(self.bias, bias_shape))
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def get_config(self):
        config = self._rate_and_seed_config()
        return {**super().get_config(), **config}


__all__ = ["DropConnectConv2D", "DropConnectDense", "drop_connect_mask"]
