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
    sharpens; the border pixels are kept. Written as one expression,
    ``images + (1 - factor) * (smooth - images)`` inside the border (0.74
    against 1.09 ms of CPU per image at 224 pixels for the filter alone,
    once; inside a pipeline the two forms measured level).

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
    change = tf.pad(total / 13.0 - interior, [[0, 0], [1, 1], [1, 1], [0, 0]])
    keep = 1.0 - sampling.expand_per_example(factor)
    return _clip(images + keep * change)


def _reflect_pad(images, axis, radius):
    """``tf.pad(mode="REFLECT")`` along one axis, by slicing.

    XLA's MirrorPad rejects a zero-size dimension even where it pads
    nothing (an empty batch); slices, reversed, and a concatenation do
    not (gathers of the edge rows made XLA build the padded batch twice).
    """
    if radius == 0:
        return images
    size = images.shape[axis]
    size = tf.shape(images)[axis] if size is None else size
    before = tf.reverse(_along(images, axis, 1, radius + 1), [axis])
    after = tf.reverse(
        _along(images, axis, size - radius - 1, size - 1), [axis]
    )
    return tf.concat([before, images, after], axis=axis)


def _along(images, axis, start, stop):
    """``images[start:stop]`` along ``axis``."""
    index = [slice(None)] * len(images.shape)
    index[axis] = slice(start, stop)
    return images[tuple(index)]


def _taps(padded, weights, axis, count):
    """``sum_k weights[:, k] * padded[k : k + count]`` along ``axis``."""
    out = 0.0
    for k in range(weights.shape[1]):
        tap = _along(padded, axis, k, k + count)
        out += sampling.expand_per_example(weights[:, k]) * tap
    return out


def _filter_axis(images, weights, axis, radius):
    """A 1-D filter of ``2 * radius + 1`` per-example taps, edges reflected.

    The interior reads shifted slices of the images; the ``radius``
    values at each end are computed apart, from a reflected strip. XLA
    fused a whole reflected copy into every tap (a select per value):
    5-tap Gaussian blurs of 64 images at 224 pixels took 1.30-1.48 ms of
    CPU per image that way, 0.59 this way (the same values).
    """
    size = images.shape[axis]
    edge = 2 * radius + 1
    if size is None or size < edge:
        count = tf.shape(images)[axis] if size is None else size
        return _taps(_reflect_pad(images, axis, radius), weights, axis, count)
    low = _reflect_pad(_along(images, axis, 0, edge), axis, radius)
    high = _reflect_pad(_along(images, axis, size - edge, size), axis, radius)
    parts = [
        _taps(low, weights, axis, radius),
        _taps(images, weights, axis, size - 2 * radius),
        _taps(_along(high, axis, radius + 1, None), weights, axis, radius),
    ]
    return tf.concat(parts, axis=axis)


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
    images = tf.convert_to_tensor(images, tf.float32)
    radius = kernel_size // 2
    offsets = tf.range(-radius, radius + 1, dtype=tf.float32)
    sigma = tf.reshape(tf.cast(sigma, tf.float32), [-1, 1])
    unnormalized = tf.exp(-0.5 * tf.square(offsets[None, :] / sigma))
    total = tf.reduce_sum(unnormalized, axis=1)
    # Normalized by a division: XLA does not copy an expensive op into
    # each of its users, so the row pass is computed once; without it,
    # each output recomputed its row taps for each of its column taps.
    rows = _filter_axis(images, unnormalized, 1, radius)
    rows = rows / sampling.expand_per_example(total)
    return _filter_axis(rows, unnormalized / total[:, None], 2, radius)


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

    Each value's draw is one of 65,536 equally likely quantiles of the
    normal distribution (unit variance, nothing beyond 4.2 standard
    deviations): at 16-bit resolution, finer than any pixel's 8 bits.

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
