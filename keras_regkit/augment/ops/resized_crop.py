"""RandomResizedCrop: torchvision's random resized crop, as a geometric op.

The window is drawn as torchvision's ``RandomResizedCrop.get_params``
draws it (area and aspect ratio, ten tries, the clamped centre crop as
fallback) and described by a 3x3 matrix like every geometric op: in a
`Pipeline` of same-sized batches it is fused with the other geometric ops
into one resampling; for images of any size the window is read back and
cropped one by one
(`keras_regkit.augment.inputs`).

Reference:
    Szegedy et al., "Going deeper with convolutions", 2015.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import checks
from keras_regkit.augment._core import roles
from keras_regkit.augment._core import sampling
from keras_regkit.augment._core.resample import affine_matrix


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomResizedCrop(roles.GeometricOp):
    """Crops a random area and aspect ratio, resized to ``(height, width)``.

    As in Inception and torchvision (``RandomResizedCrop.get_params``):
    the crop's area is a fraction of the image drawn from ``scale``, its
    aspect ratio (width / height) drawn log-uniformly from ``ratio``, the
    sides rounded; up to ten draws per example, the first that fits is
    placed uniformly; when none fits (a panorama, say), the centre crop
    with the image's aspect ratio clamped into ``ratio`` (the whole image
    when its ratio is in range). Geometric ops listed after it act on the
    crop (stretched over the input's size), and the result is resampled
    at ``(height, width)``; outside training the image is only resized.

    Images of any size and encoded images (``pipeline(ds, batch_size=n)``,
    `keras_regkit.augment.decode_random_resized_crop`) are cropped one by
    one and resized as torchvision resizes, antialiased when shrinking
    (``antialias``). In a pipeline of same-sized batches the crop is fused
    with the other geometric ops into one bilinear resampling, without
    antialiasing.

    Args:
        height: Output height in pixels.
        width: Output width in pixels.
        scale: ``(low, high)`` fraction of the image area, in (0, 1].
        ratio: ``(low, high)`` aspect ratios, > 0.
        probability: Chance, per example, of a random crop (else the whole
            image is resized).
        antialias: Whether a crop resized one by one (images of any size,
            encoded images) is low-pass filtered when shrunk: PIL's and
            torchvision's bilinear filter, its support scaled by the
            factor (``tf.image.resize(antialias=True)``), as torchvision's
            v2 transforms do by default. False: plain bilinear taps,
            faster and aliased (fine stripes come out as stripes).
        fallback: What ten missed draws give: ``"center"``, torchvision's
            centre crop with the ratio clamped, or ``"whole"``, the whole
            image (the kit's earlier behaviour, which squashes a 10:1
            panorama into the output's shape).

    Example:
    >>> import numpy as np
    >>> from keras_regkit.augment import Pipeline, RandomResizedCrop
    >>> x = np.zeros((2, 40, 30, 3), "uint8")
    >>> Pipeline([RandomResizedCrop(24, 16)]).augment(x, seed=1).shape
    TensorShape([2, 24, 16, 3])
    """

    ATTEMPTS = 10
    FALLBACKS = ("center", "whole")
    axis_aligned = True

    def __init__(
        self,
        height,
        width,
        scale=(0.08, 1.0),
        ratio=(3.0 / 4.0, 4.0 / 3.0),
        probability=1.0,
        antialias=True,
        fallback="center",
    ):
        super().__init__(probability)
        self.height = _validation.check_int("height", height, low=1, owner=self)
        self.width = _validation.check_int("width", width, low=1, owner=self)
        self.scale = checks.config_value(scale)
        self.ratio = checks.config_value(ratio)
        checks.check_positive_pair("scale", scale, high=1.0, owner=self)
        checks.check_positive_pair("ratio", ratio, owner=self)
        self.antialias = _validation.check_bool(
            "antialias", antialias, owner=self
        )
        self.fallback = _validation.check_choice(
            "fallback", fallback, self.FALLBACKS, owner=self
        )

    def output_size(self, height, width):
        return self.height, self.width

    def _fallback_size(self, height, width):
        """The crop ``(width, height)`` when no draw fits."""
        if self.fallback == "whole":
            return width, height
        # torchvision: the image's ratio clamped into range, rounded.
        low, high = min(self.ratio), max(self.ratio)
        aspect = width / height
        crop_w = tf.where(aspect > high, tf.round(height * high), width)
        crop_h = tf.where(aspect < low, tf.round(width / low), height)
        return crop_w, crop_h

    def _crop_box(self, seed, batch_size, height, width):
        """The crops' ``(width, height, x, y)``: float32 ``(batch,)`` each.

        Whole pixels, inside the image: the first of up to ten draws that
        fits, placed uniformly, else the fallback, centred.
        """
        area_seed, ratio_seed, x_seed, y_seed = sampling.split_seed(seed, 4)
        shape = [batch_size, self.ATTEMPTS]
        area = sampling.uniform(area_seed, shape, *self.scale) * height * width
        log_ratio = sampling.uniform(
            ratio_seed, shape, math.log(self.ratio[0]), math.log(self.ratio[1])
        )
        aspect = tf.exp(log_ratio)
        crop_w = tf.round(tf.sqrt(area * aspect))
        crop_h = tf.round(tf.sqrt(area / aspect))
        fits = (crop_w <= width) & (crop_h <= height) & (crop_w > 0)
        fits = fits & (crop_h > 0)
        first = tf.argmax(tf.cast(fits, tf.int32), axis=1, output_type=tf.int32)
        any_fits = tf.reduce_any(fits, axis=1)
        fallback_w, fallback_h = self._fallback_size(height, width)
        crop_w = tf.where(
            any_fits, tf.gather(crop_w, first, batch_dims=1), fallback_w
        )
        crop_h = tf.where(
            any_fits, tf.gather(crop_h, first, batch_dims=1), fallback_h
        )
        # A draw that fits is placed uniformly; the fallback is centred.
        x0 = tf.where(
            any_fits,
            sampling.uniform(x_seed, [batch_size]) * (width - crop_w + 1.0),
            (width - crop_w) / 2.0,
        )
        y0 = tf.where(
            any_fits,
            sampling.uniform(y_seed, [batch_size]) * (height - crop_h + 1.0),
            (height - crop_h) / 2.0,
        )
        return crop_w, crop_h, tf.floor(x0), tf.floor(y0)

    def matrix(self, seed, batch_size, image_shape):
        height = tf.cast(image_shape[0], tf.float32)
        width = tf.cast(image_shape[1], tf.float32)
        crop_w, crop_h, x0, y0 = self._crop_box(seed, batch_size, height, width)
        # Centred coordinates: the crop's centre relative to the image's.
        cx = x0 + crop_w / 2.0 - width / 2.0
        cy = y0 + crop_h / 2.0 - height / 2.0
        matrix = affine_matrix(
            [[crop_w / width, 0.0, cx], [0.0, crop_h / height, cy]]
        )
        return matrix

    def window(self, seed, height, width):
        """One image's crop window, as `sample` draws it for a batch of one.

        The same seed gives the window of `sample`'s matrix (the same
        draws, the op's probability included: gated off, the whole
        image), as whole pixels, without building the matrix: for an
        image of any size, cropped alone
        (`keras_regkit.augment.decode_random_resized_crop`). Building the
        matrix and reading the window back from it cost 0.08 ms of CPU
        more per example in a map that decodes, crops and resizes JPEGs
        (3.14 against 3.06 ms).

        Args:
            seed: A stateless seed (an int, a pair or a shape-(2,) tensor).
            height: The image's height (an int or a scalar tensor).
            width: The image's width.

        Returns:
            int32 ``[y, x, crop_height, crop_width]``, inside the image.

        Example:
        >>> from keras_regkit import augment as rka
        >>> op = rka.RandomResizedCrop(8, 8, scale=(0.25, 0.25), ratio=(1, 1))
        >>> [int(v) for v in op.window([0, 3], 40, 40)[2:]]
        [20, 20]
        """
        height = tf.cast(height, tf.float32)
        width = tf.cast(width, tf.float32)
        seed, gate = self._own_gate(sampling.as_seed(seed), 1, None)
        box = self._crop_box(seed, 1, height, width)
        crop_w, crop_h, x0, y0 = (value[0] for value in box)
        if gate is not None:  # Gated off: the whole image.
            on = gate[0] > 0.0
            crop_w = tf.where(on, crop_w, width)
            crop_h = tf.where(on, crop_h, height)
            x0, y0 = tf.where(on, x0, 0.0), tf.where(on, y0, 0.0)
        # At least a pixel (a fallback on a sliver of an image rounds to
        # none), about the same centre.
        width_in = tf.clip_by_value(crop_w, 1.0, width)
        height_in = tf.clip_by_value(crop_h, 1.0, height)
        x = tf.round(x0 + (crop_w - width_in) / 2.0)
        y = tf.round(y0 + (crop_h - height_in) / 2.0)
        x = tf.clip_by_value(x, 0.0, width - width_in)
        y = tf.clip_by_value(y, 0.0, height - height_in)
        return tf.cast(tf.stack([y, x, height_in, width_in]), tf.int32)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "scale": self.scale,
            "ratio": self.ratio,
            "antialias": self.antialias,
            "fallback": self.fallback,
        }
