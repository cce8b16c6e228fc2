"""Sequences, spectrograms and time series: SpecAugment masks, jitter, warps.

The same `Pipeline` applies these (same seeds, same reproducibility);
only the input shape differs:

* spectrograms: ``(batch, time, frequency)`` or ``(batch, time,
  frequency, channels)`` for `TimeMasking` and `FrequencyMasking`;
* time series: ``(batch, time, channels)`` for `RandomJitter`,
  `RandomScaling` and `RandomMagnitudeWarp`.

Values are not clipped (float input passes through as float32; uint8
input is scaled to [0, 1] as for images).

References:
    Park et al., "SpecAugment: A Simple Data Augmentation Method for
    Automatic Speech Recognition", 2019.
    Um et al., "Data Augmentation of Wearable Sensor Data for Parkinson's
    Disease Monitoring using Convolutional Neural Networks", 2017.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import roles
from keras_regkit.augment._core import sampling
from keras_regkit.augment._core import value_ops

SPECTROGRAM_SHAPES = {
    3: "(batch, time, frequency)",
    4: "(batch, time, frequency, channels)",
}
SERIES_SHAPES = {3: "(batch, time, channels)"}


def band_mask(length, start, width):
    """The union of each example's bands ``start <= i < start + width``.

    Args:
        length: The axis length.
        start: float32 ``(batch, count)`` first indices.
        width: float32 ``(batch, count)`` band widths (0: no band).

    Returns:
        float32 ``(batch, length)``: 1 inside a band.

    Example:
    >>> import tensorflow as tf
    >>> band_mask(5, tf.constant([[1.0, 4.0]]), tf.constant([[2.0, 3.0]]))
    ... # doctest: +NORMALIZE_WHITESPACE
    <tf.Tensor: shape=(1, 5), dtype=float32, numpy=array([[0., 1., 1., 0.,
    1.]], dtype=float32)>
    """
    positions = tf.range(length, dtype=tf.float32)[None, None, :]
    start = start[..., None]
    inside = (positions >= start) & (positions < start + width[..., None])
    return 1.0 - tf.reduce_prod(1.0 - tf.cast(inside, tf.float32), axis=1)


class _Masking(roles.ValueOp):
    """SpecAugment masks along one axis (1: time, 2: frequency)."""

    shapes = SPECTROGRAM_SHAPES
    axis = 1

    def __init__(self, max_width, count=1, value=0.0, probability=1.0):
        super().__init__(probability)
        self.max_width = _validation.check_int(
            "max_width", max_width, low=1, owner=self
        )
        self.count = _validation.check_int("count", count, low=1, owner=self)
        if value == "mean":
            self.value = value
        else:
            self.value = _validation.check_float("value", value, owner=self)

    def _sample(self, seed, batch_size, shape):
        width_seed, start_seed = sampling.split_seed(seed, 2)
        length = tf.cast(shape[self.axis - 1], tf.float32)
        draws = [batch_size, self.count]
        width = tf.random.stateless_uniform(
            draws,
            seed=width_seed,
            minval=0,
            maxval=self.max_width + 1,
            dtype=tf.int32,
        )
        width = tf.minimum(tf.cast(width, tf.float32), length)
        start = tf.floor(
            sampling.uniform(start_seed, draws) * (length - width + 1.0)
        )
        return {"start": start, "width": width}

    def apply(self, inputs, params):
        length = tf.shape(inputs)[self.axis]
        mask = band_mask(length, params["start"], params["width"])
        shape = [-1, 1, 1, 1][: inputs.shape.rank]
        shape[self.axis] = length
        mask = tf.reshape(mask, shape)
        fill = self.value
        if fill == "mean":
            axes = list(range(1, inputs.shape.rank))
            fill = tf.reduce_mean(inputs, axis=axes, keepdims=True)
        return inputs + mask * (fill - inputs)

    def get_config(self):
        return {
            **super().get_config(),
            "max_width": self.max_width,
            "count": self.count,
            "value": self.value,
        }


@keras.saving.register_keras_serializable(package="keras_regkit")
class TimeMasking(_Masking):
    """SpecAugment time masking: ``count`` bands of consecutive frames.

    Each band's width is drawn uniformly from ``[0, max_width]`` (at most
    the length) and its start uniformly where it fits, per example.

    Args:
        max_width: The widest band, in frames (SpecAugment's ``T``).
        count: Bands per example.
        value: The fill, a float, or ``"mean"`` (each example's mean).
        probability: Chance, per example, that the op applies.

    Input shape:
        ``(batch, time, frequency)`` or ``(batch, time, frequency,
        channels)``.

    Example:
    >>> import numpy as np
    >>> from keras_regkit.augment import Pipeline, TimeMasking
    >>> x = np.ones((2, 50, 16), "float32")
    >>> out = Pipeline([TimeMasking(10, count=2)]).augment(x, seed=0)
    >>> out.shape, bool((out.numpy() == 0).all(axis=2).any())
    (TensorShape([2, 50, 16]), True)
    """

    axis = 1


@keras.saving.register_keras_serializable(package="keras_regkit")
class FrequencyMasking(_Masking):
    """SpecAugment frequency masking: ``count`` bands of channels.

    Args:
        max_width: The widest band, in frequency bins (``F``).
        count: Bands per example.
        value: The fill, a float, or ``"mean"`` (each example's mean).
        probability: Chance, per example, that the op applies.

    Input shape:
        ``(batch, time, frequency)`` or ``(batch, time, frequency,
        channels)``.

    Example:
    >>> import numpy as np
    >>> from keras_regkit.augment import FrequencyMasking, Pipeline
    >>> spectrograms = np.ones((2, 50, 16), "float32")  # (batch, time, freq)
    >>> out = Pipeline([FrequencyMasking(8, count=2)]).augment(spectrograms, 0)
    >>> out.shape, bool((out.numpy() == 0).all(axis=1).any())
    (TensorShape([2, 50, 16]), True)
    """

    axis = 2


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomJitter(value_ops.AdditiveNoise):
    """Adds Gaussian noise to every value (time-series jitter).

    Args:
        stddev: The noise's standard deviation, >= 0.
        probability: Chance, per example, that the op applies.

    Input shape:
        ``(batch, time, channels)``.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> t = np.linspace(0.0, 6.0, 50, dtype="float32")
    >>> series = np.stack([np.sin(t), np.cos(t)], axis=-1)[None].repeat(2, 0)
    >>> op = rk.augment.RandomJitter(0.03)
    >>> rk.augment.Pipeline([op], seed=0).augment(series, seed=1).shape
    TensorShape([2, 50, 2])
    """

    shapes = SERIES_SHAPES

    def __init__(self, stddev=0.03, probability=1.0):
        super().__init__(stddev, probability)


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomScaling(roles.ValueOp):
    """Multiplies each channel of each series by a factor ``~ N(1, σ)``.

    Args:
        stddev: σ, the factors' standard deviation, >= 0.
        probability: Chance, per example, that the op applies.

    Input shape:
        ``(batch, time, channels)``.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> t = np.linspace(0.0, 6.0, 50, dtype="float32")
    >>> series = np.stack([np.sin(t), np.cos(t)], axis=-1)[None].repeat(2, 0)
    >>> op = rk.augment.RandomScaling(0.1)
    >>> rk.augment.Pipeline([op], seed=0).augment(series, seed=1).shape
    TensorShape([2, 50, 2])
    """

    shapes = SERIES_SHAPES

    def __init__(self, stddev=0.1, probability=1.0):
        super().__init__(probability)
        self.stddev = _validation.check_float(
            "stddev", stddev, low=0.0, owner=self
        )

    def _sample(self, seed, batch_size, shape):
        draws = [batch_size, 1, shape[-1]]
        noise = tf.random.stateless_normal(draws, seed=seed)
        return {"factor": 1.0 + self.stddev * noise}

    def apply(self, inputs, params):
        return inputs * params["factor"]

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


def smooth_curve(knots, length):
    """Catmull-Rom cubic curves through evenly spaced knots.

    Args:
        knots: float32 ``(batch, num_knots, channels)`` values at
            positions ``0, (length - 1) / (num_knots - 1), ..., length -
            1``; ``num_knots >= 2``.
        length: The number of samples.

    Returns:
        float32 ``(batch, length, channels)``: the curve at each sample,
        equal to the knots at their positions.

    Example:
    >>> import tensorflow as tf
    >>> knots = tf.reshape(tf.constant([0.0, 1.0, 2.0]), [1, 3, 1])
    >>> smooth_curve(knots, 5)[0, :, 0].numpy()
    array([0. , 0.5, 1. , 1.5, 2. ], dtype=float32)
    """
    num = knots.shape[1]
    u = tf.linspace(0.0, float(num - 1), length)
    index = tf.minimum(tf.cast(tf.floor(u), tf.int32), num - 2)
    t = (u - tf.cast(index, tf.float32))[None, :, None]
    # Knots padded by linear extrapolation at both ends.
    padded = tf.concat(
        [
            2.0 * knots[:, :1] - knots[:, 1:2],
            knots,
            2.0 * knots[:, -1:] - knots[:, -2:-1],
        ],
        axis=1,
    )
    p0, p1, p2, p3 = (tf.gather(padded, index + k, axis=1) for k in range(4))
    return 0.5 * (
        2.0 * p1
        + (p2 - p0) * t
        + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * t**2
        + (3.0 * p1 - p0 - 3.0 * p2 + p3) * t**3
    )


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomMagnitudeWarp(roles.ValueOp):
    """Multiplies each series by a smooth random curve around 1.

    As Um et al.: ``knots + 2`` values ``~ N(1, σ)`` evenly spaced over
    the series (ends included), per example and channel, joined by a
    cubic curve (Catmull-Rom, through the knots).

    Args:
        stddev: σ of the knot values, >= 0.
        knots: Interior knots, an integer >= 0.
        probability: Chance, per example, that the op applies.

    Input shape:
        ``(batch, time, channels)`` with a static time length.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> t = np.linspace(0.0, 6.0, 50, dtype="float32")
    >>> series = np.stack([np.sin(t), np.cos(t)], axis=-1)[None].repeat(2, 0)
    >>> op = rk.augment.RandomMagnitudeWarp(0.2, knots=4)
    >>> rk.augment.Pipeline([op], seed=0).augment(series, seed=1).shape
    TensorShape([2, 50, 2])
    """

    shapes = SERIES_SHAPES

    def __init__(self, stddev=0.2, knots=4, probability=1.0):
        super().__init__(probability)
        self.stddev = _validation.check_float(
            "stddev", stddev, low=0.0, owner=self
        )
        self.knots = _validation.check_int("knots", knots, low=0, owner=self)

    def validate(self, shape, has_labels=False, labels_spec=None):
        if shape[1] is None:
            raise _validation.invalid(
                "inputs",
                "a static time length, (batch, time, channels)",
                tuple(shape),
                owner=self,
            )

    def _sample(self, seed, batch_size, shape):
        draws = [batch_size, self.knots + 2, shape[-1]]
        knots = 1.0 + self.stddev * tf.random.stateless_normal(draws, seed)
        return {"curve": smooth_curve(knots, shape[0])}

    def apply(self, inputs, params):
        return inputs * params["curve"]

    def get_config(self):
        return {
            **super().get_config(),
            "stddev": self.stddev,
            "knots": self.knots,
        }
