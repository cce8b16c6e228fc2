"""Concrete dropout: dropout whose rate is learned by gradient descent.

Reference:
    Gal, Hron and Kendall, "Concrete Dropout", NeurIPS 2017.
    https://arxiv.org/abs/1705.07832

The Bernoulli mask is relaxed into a Concrete (Gumbel-softmax) one, so
the loss is differentiable in the dropout probability ``p``:

    z = sigmoid((logit(p) + logit(u)) / temperature),  u ~ U(0, 1)
    x_dropped = x * (1 - z) / (1 - p)

The wrapped layer's weights and ``p`` are regularised as in the paper's
variational objective, through `add_loss`:

    weight_regularizer * sum(kernel ** 2) / (1 - p)
    + dropout_regularizer * input_dim * (p log p + (1 - p) log(1 - p))

With N training examples and prior length-scale l, the paper takes
``weight_regularizer = l**2 / N`` and ``dropout_regularizer = 2 / N``:
the entropy term pulls ``p`` towards 0.5, the weight term and the data
fit pull it down, so ``p`` falls as data grows.
"""

from __future__ import annotations

import math
from functools import partial

import keras
from keras import ops

from keras_regkit import _validation
from keras_regkit.layers import _common

_EPS = 1e-7
_CONVS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


def concrete_dropout(
    inputs, rate, temperature=0.1, noise_shape=None, seed=None
):
    """Relaxed-Bernoulli dropout, differentiable in ``rate``.

    Args:
        inputs: A float tensor.
        rate: The dropout probability ``p``, a float or float32 scalar
            tensor in (0, 1).
        temperature: The relaxation's temperature (0.1 in the paper);
            lower is closer to a hard 0/1 mask.
        noise_shape: The mask's shape, broadcast against ``inputs``
            (default: the input's shape).
        seed: A `keras.random.SeedGenerator` (or an int, or None).

    Returns:
        ``inputs * (1 - z) / (1 - rate)`` with ``z`` the relaxed mask.

    Example:
    >>> import numpy as np
    >>> y = concrete_dropout(np.ones((1000,), "float32"), 0.3, seed=0)
    >>> y = keras.ops.convert_to_numpy(y)
    >>> round(float((y < 0.5).mean()), 1), round(float(y.mean()), 1)
    (0.3, 1.0)
    """
    rate = ops.cast(rate, "float32")
    shape = ops.shape(inputs) if noise_shape is None else noise_shape
    u = keras.random.uniform(shape, dtype="float32", seed=seed)
    logits = (
        ops.log(rate + _EPS)
        - ops.log(1.0 - rate + _EPS)
        + ops.log(u + _EPS)
        - ops.log(1.0 - u + _EPS)
    )
    drop = ops.sigmoid(logits / temperature)
    factor = (1.0 - drop) / (1.0 - rate)
    return ops.multiply(inputs, ops.cast(factor, inputs.dtype))


def concrete_dropout_penalty(
    kernel, rate, input_dim, weight_regularizer, dropout_regularizer
):
    """The regularisation term of concrete dropout (see module docstring).

    Args:
        kernel: The wrapped layer's kernel.
        rate: The dropout probability ``p`` (float32 scalar).
        input_dim: Number of units dropped independently per example
            (input features of a Dense, input channels of a Conv).
        weight_regularizer: Weight term's factor (``l**2 / N``).
        dropout_regularizer: Entropy term's factor (``2 / N``).

    Returns:
        A float32 scalar.

    Example:
    >>> import numpy as np
    >>> p = 0.2
    >>> value = concrete_dropout_penalty(np.ones((3, 2)), p, 3, 0.1, 0.01)
    >>> expected = 0.1 * 6 / (1 - p) + 0.01 * 3 * (
    ...     p * np.log(p) + (1 - p) * np.log(1 - p))
    >>> bool(np.isclose(float(value), expected))
    True
    """
    rate = ops.cast(rate, "float32")
    kernel = ops.cast(kernel, "float32")
    weight_term = weight_regularizer * ops.sum(ops.square(kernel)) / (1 - rate)
    neg_entropy = rate * ops.log(rate + _EPS) + (1.0 - rate) * ops.log(
        1.0 - rate + _EPS
    )
    return weight_term + dropout_regularizer * input_dim * neg_entropy


@keras.saving.register_keras_serializable(package="keras_regkit")
class ConcreteDropout(_common.SavedStateMixin, keras.layers.Wrapper):
    """Wraps a Dense or Conv layer with dropout of a learned rate.

    The dropout is applied to the wrapped layer's input, during training
    only (at inference the wrapped layer sees its input unchanged: the
    scaling by ``1 / (1 - p)`` makes that the expectation). For a Dense
    layer every input unit is dropped independently; for a Conv layer
    whole input channels are (the paper's spatial concrete dropout). The
    regularisation term (module docstring) is added with `add_loss` at
    every call. The learned rate is the `rate` property; during `fit` its
    batch average is logged as ``<layer name>_rate`` (not on JAX, whose
    trainer cannot update a metric inside a layer's forward pass).

    The dropout itself is elementwise and runs on every device; the wrapped
    layer runs as Keras runs it. (A ``channels_first`` Keras `Conv2D` does
    not run on a TensorFlow CPU without oneDNN: "The Conv2D op currently
    only supports the NHWC tensor format on the CPU". Wrap a
    `DropConnectConv2D` with ``rate=0.0`` there, or use
    ``channels_last``.)

    Args:
        layer: A `keras.layers.Dense`, `Conv1D`, `Conv2D` or `Conv3D`.
        weight_regularizer: Factor of the weight term, >= 0: ``l**2 / N``
            for N training examples and prior length-scale l.
        dropout_regularizer: Factor of the entropy term, >= 0: ``2 / N``.
        init_rate: Initial dropout rate, in (0, 1).
        temperature: Temperature of the Concrete relaxation, > 0.
        seed: Integer seed of the layer's random generator.

    Call arguments:
        inputs: The wrapped layer's float input.
        training: Whether to drop (True inside `fit`).

    Input shape:
        As the wrapped layer's.

    Output shape:
        As the wrapped layer's.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> layer = rk.layers.ConcreteDropout(keras.layers.Dense(2), init_rate=0.2)
    >>> model = keras.Sequential([keras.Input((3,)), layer])
    >>> model.compile("sgd", "mse")
    >>> round(layer.rate, 6)  # the rate, learned in training
    0.2
    >>> x, y = np.ones((8, 3), "float32"), np.zeros((8, 2), "float32")
    >>> _ = model.fit(x, y, epochs=1, verbose=0)
    >>> 0.0 < layer.rate < 1.0
    True
    >>> _ = model(x, training=True)  # a call in training adds its loss
    >>> len(model.losses)
    1

    Reference:
        Gal, Hron and Kendall, "Concrete Dropout", NeurIPS 2017.
    """

    def __init__(
        self,
        layer,
        weight_regularizer=1e-6,
        dropout_regularizer=1e-5,
        init_rate=0.1,
        temperature=0.1,
        seed=None,
        **kwargs,
    ):
        _validation.check_type(
            "layer",
            layer,
            (keras.layers.Dense, *_CONVS),
            "a keras.layers.Dense, Conv1D, Conv2D or Conv3D instance",
            owner=self,
        )
        super().__init__(layer, **kwargs)
        nonneg = partial(_validation.check_float, low=0.0, owner=self)
        self.weight_regularizer = nonneg(
            "weight_regularizer", weight_regularizer
        )
        self.dropout_regularizer = nonneg(
            "dropout_regularizer", dropout_regularizer
        )
        self.init_rate = _validation.check_float(
            "init_rate",
            init_rate,
            low=0.0,
            high=1.0,
            low_inclusive=False,
            high_inclusive=False,
            owner=self,
        )
        self.temperature = _validation.check_float(
            "temperature",
            temperature,
            low=0.0,
            low_inclusive=False,
            owner=self,
        )
        self.seed, self.seed_generator = _common.make_seed(seed, owner=self)
        # Keras's JAX trainer runs the forward pass with only the model's
        # weights in its state, so a metric cannot be updated there.
        self.rate_tracker = (
            None
            if keras.backend.backend() == "jax"
            else keras.metrics.Mean(name=f"{self.name}_rate")
        )

    @property
    def rate(self) -> float:
        """The learned dropout rate ``p`` (``init_rate`` before build)."""
        if not self.built:
            return self.init_rate
        logit = ops.convert_to_numpy(self.p_logit.value)
        return float(1.0 / (1.0 + math.exp(-float(logit))))

    def build(self, input_shape):
        shape = tuple(input_shape)
        if isinstance(self.layer, keras.layers.Dense):
            ok = len(shape) >= 2
            expected = "a shape of rank >= 2 (batch, ..., features)"
            self._channel_axis = -1
        else:
            ok = len(shape) == self.layer.rank + 2
            expected = f"a rank-{self.layer.rank + 2} shape for the Conv"
            self._channel_axis = (
                -1 if self.layer.data_format == "channels_last" else 1
            )
        if not ok:
            raise _validation.invalid(
                "input_shape", expected, shape, owner=self
            )
        input_dim = shape[self._channel_axis]
        if input_dim is None:
            raise _validation.invalid(
                "input_shape",
                "a known feature / channel size",
                shape,
                owner=self,
            )
        self._input_dim = int(input_dim)
        logit = math.log(self.init_rate) - math.log1p(-self.init_rate)
        self.p_logit = self.add_weight(
            name="p_logit",
            shape=(),
            initializer=keras.initializers.Constant(logit),
            dtype="float32",
        )
        super().build(input_shape)

    def _noise_shape(self, inputs):
        if isinstance(self.layer, keras.layers.Dense):
            return None
        shape = list(ops.shape(inputs))
        channels = len(shape) - 1 if self._channel_axis == -1 else 1
        return tuple(
            size if i in (0, channels) else 1 for i, size in enumerate(shape)
        )

    # Every example (and channel) gets its own relaxed mask.
    draws_per_example = True

    def call(self, inputs, training=None):
        _common.check_float_inputs(inputs, owner=self)
        rate = ops.sigmoid(ops.cast(self.p_logit, "float32"))
        self.add_loss(
            concrete_dropout_penalty(
                self.layer.kernel,
                rate,
                self._input_dim,
                self.weight_regularizer,
                self.dropout_regularizer,
            )
        )
        if training:
            if self.rate_tracker is not None:
                self.rate_tracker.update_state(rate)
            inputs = concrete_dropout(
                inputs,
                rate,
                self.temperature,
                self._noise_shape(inputs),
                self.seed_generator,
            )
        return self.layer(inputs)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        # Keras's Wrapper.from_config pops "layer" from the dict it is
        # given; work on a copy so the caller's config stays intact.
        return super().from_config(dict(config), custom_objects)

    def get_config(self):
        config = {
            "weight_regularizer": self.weight_regularizer,
            "dropout_regularizer": self.dropout_regularizer,
            "init_rate": self.init_rate,
            "temperature": self.temperature,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}


__all__ = [
    "ConcreteDropout",
    "concrete_dropout",
    "concrete_dropout_penalty",
]
