"""Filters and noise: sharpness, Gaussian blur, Gaussian noise.

Each a pure function of float32 images in [0, 1] and per-example
parameters, plus a thin random op (as `keras_regkit.augment.ops.color`);
results are clipped to [0, 1].
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import checks
from keras_regkit.augment._core import roles
from keras_regkit.augment._core import sampling
from keras_regkit.augment._core import value_ops


def _clip(images):
    return tf.clip_by_value(images, 0.0, 1.0)


def sharpen(images, factor):
    """Blends with a smoothed copy as PIL's ``ImageEnhance.Sharpness``.

    ``factor`` 1 leaves the image unchanged, 0 smooths it, above 1
    sharpens; the border pixels are kept.

    Example:
    >>> import tensorflow as tf
    >>> x = tf.fill([1, 3, 4, 1], 0.5)
    >>> float(tf.reduce_max(tf.abs(sharpen(x, [2.0]) - x)))
    0.0
    """
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    interior = images[:, 1:-1, 1:-1]
    total = 4.0 * interior
    for dy in range(3):
        for dx in range(3):
            total += images[:, dy : height - 2 + dy, dx : width - 2 + dx]
    smooth = total / 13.0
    degenerate = images + tf.pad(
        smooth - interior, [[0, 0], [1, 1], [1, 1], [0, 0]]
    )
    return _clip(
        degenerate + sampling.expand_per_example(factor) * (images - degenerate)
    )


def _reflect_pad(images, axis, radius):
    """``tf.pad(mode="REFLECT")`` along one axis, by slicing.

    XLA's MirrorPad rejects a zero-size dimension even where it pads
    nothing (an empty batch); slices and a concatenation do not.
    """
    if radius == 0:
        return images
    size = tf.shape(images)[axis]
    before = tf.reverse(
        tf.gather(images, tf.range(1, radius + 1), axis=axis), [axis]
    )
    after = tf.reverse(
        tf.gather(images, tf.range(size - radius - 1, size - 1), axis=axis),
        [axis],
    )
    return tf.concat([before, images, after], axis=axis)


def gaussian_blur(images, sigma, kernel_size):
    """Separable Gaussian blur with a per-example ``sigma``.

    Args:
        images: float32 ``(batch, h, w, c)``.
        sigma: ``(batch,)`` standard deviations in pixels, > 0.
        kernel_size: The odd kernel width (a Python int); edges reflect.

    Returns:
        The blurred images.

    Example:
    >>> import tensorflow as tf
    >>> x = tf.fill([1, 5, 4, 2], 0.25)
    >>> float(tf.reduce_max(tf.abs(gaussian_blur(x, [1.0], 3) - x)))
    0.0
    """
    radius = kernel_size // 2
    offsets = tf.range(-radius, radius + 1, dtype=tf.float32)
    sigma = tf.reshape(tf.cast(sigma, tf.float32), [-1, 1])
    weights = tf.exp(-0.5 * tf.square(offsets[None, :] / sigma))
    weights = weights / tf.reduce_sum(weights, axis=1, keepdims=True)
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    padded = _reflect_pad(images, axis=1, radius=radius)
    rows = 0.0
    for k in range(kernel_size):
        rows += (
            sampling.expand_per_example(weights[:, k])
            * padded[:, k : k + height]
        )
    padded = _reflect_pad(rows, axis=2, radius=radius)
    out = 0.0
    for k in range(kernel_size):
        out += (
            sampling.expand_per_example(weights[:, k])
            * padded[:, :, k : k + width]
        )
    return out


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomSharpness(value_ops.FactorOp):
    """Sharpens (or smooths) each image by ``1 + U(-factor, factor)``.

    As PIL's ``ImageEnhance.Sharpness``: 0 smooths, 1 keeps, 2 sharpens.

    Args:
        factor: A float ``f`` or a pair with ``low >= -1``.
        probability: Chance, per example, that the op applies.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomSharpness(0.5)
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    neutral = 1.0
    high = None

    def apply(self, images, params):
        return sharpen(images, params["value"])


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomGaussianNoise(value_ops.AdditiveNoise):
    """Adds Gaussian noise of a given standard deviation, clipped to [0, 1].

    Args:
        stddev: The noise's standard deviation (in [0, 1] pixel units).
        probability: Chance, per example, that the op applies.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomGaussianNoise(0.05)
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    clip = True

    def __init__(self, stddev=0.05, probability=1.0):
        super().__init__(stddev, probability)


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomGaussianBlur(roles.ValueOp):
    """Blurs each image with its own random Gaussian width.

    Args:
        kernel_size: The odd kernel width in pixels.
        sigma: A float (fixed) or a pair ``(low, high)``: the standard
            deviation in pixels, > 0.
        probability: Chance, per example, that the op applies.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomGaussianBlur(5, (0.1, 2.0))
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    def __init__(self, kernel_size=3, sigma=(0.1, 2.0), probability=1.0):
        super().__init__(probability)
        self.kernel_size = _validation.check_int(
            "kernel_size", kernel_size, low=1, owner=self
        )
        if self.kernel_size % 2 == 0:
            raise _validation.invalid(
                "kernel_size", "an odd integer >= 1", kernel_size, owner=self
            )
        self.sigma = checks.config_value(sigma)
        self.range = _validation.check_float_range(
            "sigma", sigma, low=1e-3, symmetric=False, owner=self
        )

    def validate(self, image_shape, has_labels=False, labels_spec=None):
        super().validate(image_shape, has_labels, labels_spec)
        radius = self.kernel_size // 2
        sizes = [s for s in image_shape[1:3] if s is not None]
        if any(s <= radius for s in sizes):
            raise _validation.invalid(
                "kernel_size",
                "a kernel narrower than twice the image",
                self.kernel_size,
                owner=self,
            )

    def _sample(self, seed, batch_size, image_shape):
        return {"sigma": sampling.uniform(seed, [batch_size], *self.range)}

    def apply(self, images, params):
        return gaussian_blur(images, params["sigma"], self.kernel_size)

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "sigma": self.sigma,
        }
