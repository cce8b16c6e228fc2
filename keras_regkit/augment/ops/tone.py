"""Tone curves: solarize (invert above a threshold) and posterize (bits).

Each a pure function of float32 images in [0, 1] and per-example
parameters, plus a thin random op, as the colour ops.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import checks
from keras_regkit.augment._core import roles
from keras_regkit.augment._core import sampling


def solarize(images, threshold):
    """Inverts (``1 - x``) every pixel at or above ``threshold``.

    Example:
    >>> import tensorflow as tf
    >>> x = tf.reshape(tf.constant([0.2, 0.8]), [1, 1, 2, 1])
    >>> solarize(x, [0.5]).numpy().ravel().round(4)
    array([0.2, 0.2], dtype=float32)
    """
    above = tf.cast(
        images >= sampling.expand_per_example(threshold), tf.float32
    )
    return images + above * (1.0 - 2.0 * images)


def posterize(images, bits):
    """Keeps the ``bits`` most significant bits of each 8-bit value.

    Example:
    >>> import tensorflow as tf
    >>> x = tf.fill([1, 1, 1, 1], 200.0 / 255.0)
    >>> (posterize(x, [2]).numpy().ravel() * 255).round()
    array([192.], dtype=float32)
    """
    step = tf.pow(2.0, 8.0 - sampling.expand_per_example(bits))
    values = tf.floor(images * 255.0 + 0.5)
    return tf.floor(values / step) * step / 255.0


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomSolarize(roles.ValueOp):
    """Inverts pixels above a per-example random threshold.

    Args:
        threshold: A float in [0, 1] (fixed) or a pair ``(low, high)``
            to draw from.
        probability: Chance, per example, that the op applies.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomSolarize((0.4, 0.6))
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    def __init__(self, threshold=0.5, probability=1.0):
        super().__init__(probability)
        self.threshold = checks.config_value(threshold)
        self.range = _validation.check_float_range(
            "threshold",
            threshold,
            low=0.0,
            high=1.0,
            symmetric=False,
            owner=self,
        )

    def _sample(self, seed, batch_size, image_shape):
        return {"threshold": sampling.uniform(seed, [batch_size], *self.range)}

    def apply(self, images, params):
        return solarize(images, params["threshold"])

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomPosterize(roles.ValueOp):
    """Keeps a per-example random number of bits of each 8-bit value.

    Args:
        bits: An integer in [1, 8] or a pair ``(low, high)`` drawn from
            uniformly (both included).
        probability: Chance, per example, that the op applies.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomPosterize((4, 6))
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    def __init__(self, bits=4, probability=1.0):
        super().__init__(probability)
        self.bits = checks.config_value(bits)
        pair = bits if isinstance(bits, (list, tuple)) else (bits, bits)
        if len(pair) != 2:
            raise _validation.invalid(
                "bits", "an integer or a pair (low, high)", bits, owner=self
            )
        low, high = (
            _validation.check_int("bits", b, low=1, high=8, owner=self)
            for b in pair
        )
        if low > high:
            raise _validation.invalid(
                "bits", "a pair (low, high) with low <= high", bits, owner=self
            )
        self.range = (low, high)

    def _sample(self, seed, batch_size, image_shape):
        bits = tf.random.stateless_uniform(
            [batch_size],
            seed=seed,
            minval=self.range[0],
            maxval=self.range[1] + 1,
            dtype=tf.int32,
        )
        return {"bits": tf.cast(bits, tf.float32)}

    def apply(self, images, params):
        return posterize(images, params["bits"])

    def get_config(self):
        return {**super().get_config(), "bits": self.bits}
