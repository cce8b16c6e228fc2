"""Photometric augmentations: each a pure function plus a thin random op.

The functions take float32 images in [0, 1], shaped ``(batch, height,
width, channels)``, and per-example parameters shaped ``(batch,)``; the
ops draw those parameters (one per example) and call them. Results are
clipped to [0, 1]. The ops cover what RandAugment and TrivialAugment
need.

A factor given as a float ``f`` draws the op's offset from its identity
uniformly from ``[-f, f]``; a pair ``(low, high)`` draws it from
``[low, high]``.

Reference:
    Cubuk et al., "RandAugment: Practical automated data augmentation
    with a reduced search space", 2020 (the op set).
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from keras_regkit.augment._core import roles
from keras_regkit.augment._core import sampling
from keras_regkit.augment._core import value_ops

_LUMA = (0.299, 0.587, 0.114)


def _clip(images):
    return tf.clip_by_value(images, 0.0, 1.0)


# Pixels summed together per row of the first reduction step of
# `_per_channel`: a minor dimension of 16 pixels' channels that XLA on CPU
# vectorizes (a reduction over (height, width) with 3 channels minor ran
# 4-6x slower at 224 pixels, AVX-512).
_GROUP = 16


def _per_channel(reduce, images):
    """``reduce`` over each image's pixels, per channel: ``(b, 1, 1, c)``.

    The same as ``reduce(images, axis=[1, 2], keepdims=True)``, in two
    steps over a reshaped batch where the sizes are static.
    """
    height, width, channels = images.shape[1:]
    if None in (height, width, channels):
        return reduce(images, axis=[1, 2], keepdims=True)
    pixels = height * width
    group = math.gcd(pixels, _GROUP)
    rows = tf.reshape(images, [-1, pixels // group, group * channels])
    partial = reduce(rows, axis=1)
    out = reduce(tf.reshape(partial, [-1, group, channels]), axis=1)
    return tf.reshape(out, [-1, 1, 1, channels])


def grayscale(images):
    """Luma (ITU-R 601) of RGB images, kept as 3 channels.

    Args:
        images: float32 ``(batch, h, w, 3)``.

    Returns:
        float32 ``(batch, h, w, 3)`` with equal channels.

    Example:
    >>> import tensorflow as tf
    >>> grayscale(tf.constant([[[[1.0, 0.0, 0.0]]]])).numpy().ravel()
    array([0.299, 0.299, 0.299], dtype=float32)
    """
    return tf.broadcast_to(_luma(images), tf.shape(images))


def _luma(images):
    """``(batch, h, w, 1)`` luma: a sum of channel slices.

    Elementwise, so XLA fuses it with the ops around it (a reduction over
    the 3 channels ran as a pass of its own, about 1.4x slower for
    `adjust_saturation` at 224 pixels).
    """
    red, green, blue = _LUMA
    return (
        images[..., 0:1] * red
        + images[..., 1:2] * green
        + images[..., 2:3] * blue
    )


def adjust_brightness(images, delta):
    """Adds ``delta`` (per example) to every pixel, clipped to [0, 1].

    Example:
    >>> import tensorflow as tf
    >>> adjust_brightness(tf.fill([1, 1, 2, 1], 0.5), [0.7]).numpy().ravel()
    array([1., 1.], dtype=float32)
    """
    return _clip(images + sampling.expand_per_example(delta))


def adjust_contrast(images, factor):
    """Scales each channel's deviation from its per-image mean by ``factor``.

    Example:
    >>> import tensorflow as tf
    >>> x = tf.reshape(tf.constant([0.4, 0.6]), [1, 1, 2, 1])
    >>> adjust_contrast(x, [2.0]).numpy().ravel().round(4)
    array([0.3, 0.7], dtype=float32)
    """
    mean = _per_channel(tf.reduce_mean, images)
    return _clip(mean + sampling.expand_per_example(factor) * (images - mean))


def adjust_saturation(images, factor):
    """Blends RGB images with their grayscale: 0 is gray, 1 unchanged.

    Example:
    >>> import tensorflow as tf
    >>> x = tf.constant([[[[0.2, 0.4, 0.6]]]])
    >>> adjust_saturation(x, [0.0]).numpy().ravel().round(4)
    array([0.363, 0.363, 0.363], dtype=float32)
    """
    gray = _luma(images)
    return _clip(gray + sampling.expand_per_example(factor) * (images - gray))


def adjust_hue(images, delta):
    """Rotates the hue of RGB images by ``delta`` turns of the colour wheel.

    Example:
    >>> import tensorflow as tf
    >>> x = tf.constant([[[[1.0, 0.0, 0.0]]]])
    >>> adjust_hue(x, [1.0 / 3.0]).numpy().ravel().round(4)
    array([0., 1., 0.], dtype=float32)
    """
    hsv = tf.image.rgb_to_hsv(images)
    hue = tf.math.floormod(
        hsv[..., :1] + sampling.expand_per_example(delta), 1.0
    )
    return _clip(tf.image.hsv_to_rgb(tf.concat([hue, hsv[..., 1:]], -1)))


def adjust_gamma(images, gamma):
    """Raises every pixel to the power ``gamma`` (per example).

    Example:
    >>> import tensorflow as tf
    >>> adjust_gamma(tf.fill([1, 1, 1, 1], 0.25), [0.5]).numpy().ravel()
    array([0.5], dtype=float32)
    """
    # exp(gamma * log(x)): XLA vectorizes both, where it calls pow per
    # value (0.70 against 2.08 ms of CPU per 224-pixel image, AMD EPYC).
    images = tf.convert_to_tensor(images, tf.float32)
    gamma = sampling.expand_per_example(gamma, rank=images.shape.rank)
    positive = images > 0.0
    logs = tf.math.log(tf.where(positive, images, 1.0))
    return tf.where(positive, tf.exp(gamma * logs), 0.0)


def autocontrast(images):
    """Stretches each channel of each image to span [0, 1].

    Channels of one value are left unchanged.

    Example:
    >>> import tensorflow as tf
    >>> x = tf.reshape(tf.constant([0.2, 0.4, 0.6]), [1, 1, 3, 1])
    >>> autocontrast(x).numpy().ravel().round(4)
    array([0. , 0.5, 1. ], dtype=float32)
    """
    low = _per_channel(tf.reduce_min, images)
    high = _per_channel(tf.reduce_max, images)
    spread = high - low
    flat = tf.cast(spread <= 0.0, tf.float32)
    stretched = (images - low) / (spread + flat)
    return stretched + flat * (images - stretched)


def equalize(images):
    """Histogram equalization of each channel of each image (as PIL does).

    Example:
    >>> import tensorflow as tf
    >>> x = tf.reshape(tf.constant([0.0, 0.0, 0.5, 1.0]), [1, 2, 2, 1])
    >>> equalize(x).numpy().ravel().round(4)
    array([0.   , 0.   , 0.502, 1.   ], dtype=float32)
    """
    shape = tf.shape(images)
    batch, channels = shape[0], shape[3]
    values = tf.cast(tf.floor(images * 255.0 + 0.5), tf.int32)
    # (batch * channels, pixels): one row per channel of each image.
    rows = tf.reshape(
        tf.transpose(values, [0, 3, 1, 2]), [batch * channels, -1]
    )
    num_rows = batch * channels
    ids = rows + 256 * tf.range(num_rows)[:, None]
    hist = tf.math.unsorted_segment_sum(
        tf.ones_like(ids, tf.float32), ids, num_rows * 256
    )
    hist = tf.reshape(hist, [num_rows, 256])
    top = tf.reduce_max(rows, axis=1)
    last = tf.gather(hist, top, batch_dims=1)
    total = tf.cast(tf.shape(rows)[1], tf.float32)
    step = tf.floor((total - last) / 255.0)[:, None]
    before = tf.cumsum(hist, axis=1, exclusive=True)
    safe = tf.maximum(step, 1.0)
    lut = tf.minimum(tf.floor((before + tf.floor(step / 2.0)) / safe), 255.0)
    identity = tf.range(256, dtype=tf.float32)[None, :]
    lut = tf.where(step > 0.0, lut, identity)
    mapped = tf.gather(lut, rows, batch_dims=1) / 255.0
    mapped = tf.reshape(mapped, [batch, channels, shape[1], shape[2]])
    return tf.transpose(mapped, [0, 2, 3, 1])


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomBrightness(value_ops.FactorOp):
    """Adds a random offset to each image's pixels.

    Args:
        factor: A float ``f`` or a pair: the offset, in [-1, 1], drawn
            from ``[-f, f]`` (or ``[low, high]``).
        probability: Chance, per example, that the op applies.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomBrightness(0.2)
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    >>> op.get_config()
    {'probability': 1.0, 'factor': 0.2}
    """

    def apply(self, images, params):
        return adjust_brightness(images, params["value"])


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomContrast(value_ops.FactorOp):
    """Scales each image's contrast by ``1 + U(-factor, factor)``.

    The per-image, per-channel mean is kept (up to clipping at 0 and 1).

    Args:
        factor: A float ``f`` in [0, 1] or a pair in [-1, 1].
        probability: Chance, per example, that the op applies.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomContrast(0.2)
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    >>> op.range  # the factor's range
    (-0.2, 0.2)
    """

    neutral = 1.0

    def apply(self, images, params):
        return adjust_contrast(images, params["value"])


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomSaturation(value_ops.FactorOp):
    """Scales each RGB image's saturation by ``1 + U(-factor, factor)``.

    Args:
        factor: A float ``f`` in [0, 1] or a pair in [-1, 1]
            (``-1`` is grayscale).
        probability: Chance, per example, that the op applies.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomSaturation(0.5)
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    neutral = 1.0
    _channels = (3,)

    def apply(self, images, params):
        return adjust_saturation(images, params["value"])


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomHue(value_ops.FactorOp):
    """Rotates each RGB image's hue by ``U(-factor, factor)`` turns.

    Args:
        factor: A float ``f`` in [0, 0.5] or a pair in [-0.5, 0.5], in
            turns of the colour wheel.
        probability: Chance, per example, that the op applies.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomHue(0.1)
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    low = -0.5
    high = 0.5
    _channels = (3,)

    def apply(self, images, params):
        return adjust_hue(images, params["value"])


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomGamma(value_ops.FactorOp):
    """Raises each image to the power ``1 + U(-factor, factor)``.

    Args:
        factor: A float ``f`` in [0, 1) or a pair with ``low > -1``.
        probability: Chance, per example, that the op applies.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomGamma((-0.5, 0.5))
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    neutral = 1.0
    low = -0.999
    high = None

    def apply(self, images, params):
        return adjust_gamma(images, params["value"])


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomGrayscale(roles.ValueOp):
    """Turns RGB images to grayscale (3 equal channels) with a probability.

    Args:
        probability: Chance, per example, that the image turns gray.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomGrayscale(0.2)
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    _channels = (3,)

    def __init__(self, probability=0.5):
        super().__init__(probability)

    def apply(self, images, params):
        return grayscale(images)


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomEqualize(roles.ValueOp):
    """Histogram-equalizes each channel of each image, with a probability.

    Args:
        probability: Chance, per example, that the op applies.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomEqualize()
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    def apply(self, images, params):
        return equalize(images)


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomAutoContrast(roles.ValueOp):
    """Stretches each channel of each image to [0, 1], with a probability.

    Args:
        probability: Chance, per example, that the op applies.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomAutoContrast(0.5)
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    def apply(self, images, params):
        return autocontrast(images)
