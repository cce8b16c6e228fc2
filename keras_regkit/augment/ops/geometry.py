"""Geometric augmentations, fused: one 3x3 matrix per image, one resampling.

Every op here is a random affine matrix: a `Pipeline` multiplies the
matrices of consecutive
geometric ops and resamples each image once, so a flip, a rotation and a
translation blur the image no more than one of them would. Fill mode,
fill value and interpolation are the pipeline's, since there is one
resampling. Ops whose matrices never rotate or shear (flips, shifts,
zooms, crops: ``axis_aligned = True``) form stages that are resampled
separably, whole rows then columns, which is several times cheaper at
224 pixels and gives the same result up to float rounding.

Conventions: angles are counter-clockwise; translations move the content
right / down for positive values; a zoom factor ``z > 0`` zooms out
(``1 + z`` times more of the input in view), ``z < 0`` zooms in, as in
Keras's ``RandomZoom``. `RandomResizedCrop`, a geometric op too, has a
module of its own (`keras_regkit.augment.ops.resized_crop`).
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


def flip_matrix(horizontal, vertical):
    """Matrices mirroring the images whose flag is 1.

    Args:
        horizontal: ``(batch,)`` 0/1 float32: mirror left-right.
        vertical: ``(batch,)`` 0/1 float32: mirror top-bottom.

    Returns:
        float32 ``(batch, 3, 3)`` centred matrices.

    Example:
    >>> import tensorflow as tf
    >>> flip_matrix(tf.constant([1.0]), tf.constant([0.0]))[0, :2].numpy()
    array([[-1.,  0.,  0.],
           [ 0.,  1.,  0.]], dtype=float32)
    """
    return affine_matrix(
        [[1.0 - 2.0 * horizontal, 0.0, 0.0], [0.0, 1.0 - 2.0 * vertical, 0.0]]
    )


def rotation_matrix(angles):
    """Matrices rotating the images counter-clockwise by ``angles`` radians.

    Args:
        angles: ``(batch,)`` float32 angles in radians.

    Returns:
        float32 ``(batch, 3, 3)`` centred output-to-input matrices.

    Example:
    >>> import math, tensorflow as tf
    >>> m = rotation_matrix(tf.constant([math.pi / 2]))[0, :2, :2]
    >>> m.numpy().round(6) + 0.0
    array([[ 0., -1.],
           [ 1.,  0.]], dtype=float32)
    """
    c, s = tf.cos(angles), tf.sin(angles)
    return affine_matrix([[c, -s, 0.0], [s, c, 0.0]])


def translation_matrix(dx, dy):
    """Matrices shifting the content by ``(dx, dy)`` pixels (right, down).

    Args:
        dx: ``(batch,)`` float32 shifts along the width, in pixels.
        dy: ``(batch,)`` float32 shifts along the height, in pixels.

    Returns:
        float32 ``(batch, 3, 3)`` centred matrices.

    Example:
    >>> import tensorflow as tf
    >>> translation_matrix(tf.constant([2.0]), tf.constant([-1.0]))[0, :2]
    ... # doctest: +NORMALIZE_WHITESPACE
    <tf.Tensor: shape=(2, 3), dtype=float32, numpy=
    array([[ 1.,  0., -2.], [ 0.,  1.,  1.]], dtype=float32)>
    """
    return affine_matrix([[1.0, 0.0, -dx], [0.0, 1.0, -dy]])


def scale_matrix(sx, sy):
    """Matrices reading ``sx`` (``sy``) times farther from the centre.

    Args:
        sx: ``(batch,)`` float32 factors along the width (``> 1`` zooms
            out).
        sy: ``(batch,)`` float32 factors along the height.

    Returns:
        float32 ``(batch, 3, 3)`` centred matrices.

    Example:
    >>> import tensorflow as tf
    >>> scale_matrix(tf.constant([2.0]), tf.constant([0.5]))[0, 0].numpy()
    array([2., 0., 0.], dtype=float32)
    """
    return affine_matrix([[sx, 0.0, 0.0], [0.0, sy, 0.0]])


def shear_matrix(shx, shy):
    """Shear matrices: input ``x += shx * y``, ``y += shy * x``.

    Args:
        shx: ``(batch,)`` float32 shear along the width.
        shy: ``(batch,)`` float32 shear along the height.

    Returns:
        float32 ``(batch, 3, 3)`` centred matrices.

    Example:
    >>> import tensorflow as tf
    >>> shear_matrix(tf.constant([0.5]), tf.constant([0.0]))[0, 0].numpy()
    array([1. , 0.5, 0. ], dtype=float32)
    """
    return affine_matrix([[1.0, shx, 0.0], [shy, 1.0, 0.0]])


def _size(value):
    return tf.cast(value, tf.float32)


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomFlip(roles.GeometricOp):
    """Mirrors each image with some probability, per example and per axis.

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or
            ``"horizontal_and_vertical"`` (each axis drawn independently).
        probability: Chance, per example and axis, of a flip.

    Example:
    >>> import numpy as np
    >>> from keras_regkit.augment import Pipeline, RandomFlip
    >>> x = np.arange(6, dtype="uint8").reshape(1, 2, 3, 1)
    >>> out = Pipeline([RandomFlip(probability=1.0)]).augment(x, seed=0)
    >>> (out[0, :, :, 0].numpy() * 255).round().astype(int).tolist()
    [[2, 1, 0], [5, 4, 3]]
    """

    _gated = False
    axis_aligned = True
    mirror_only = True
    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal", probability=0.5):
        super().__init__(probability)
        self.mode = _validation.check_choice(
            "mode", mode, choices=self.MODES, owner=self
        )

    def matrix(self, seed, batch_size, image_shape):
        h_seed, v_seed = sampling.split_seed(seed, 2)
        zeros = tf.zeros([batch_size])
        horizontal = vertical = zeros
        if self.mode != "vertical":
            horizontal = sampling.bernoulli(
                h_seed, [batch_size], self.probability
            )
        if self.mode != "horizontal":
            vertical = sampling.bernoulli(
                v_seed, [batch_size], self.probability
            )
        return flip_matrix(horizontal, vertical)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomRotation(roles.GeometricOp):
    """Rotates each image by its own random angle.

    Args:
        factor: A float ``f`` (angles in ``[-f, f]``) or a pair
            ``(low, high)``, as fractions of a full turn (``0.25`` is
            90°), as in Keras's ``RandomRotation``. Positive angles turn
            counter-clockwise.
        probability: Chance, per example, that the image is rotated.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomRotation(15 / 360)
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    >>> op.get_config()["factor"]  # in turns
    0.041666666666666664
    """

    def __init__(self, factor, probability=1.0):
        super().__init__(probability)
        self.factor = checks.config_value(factor)
        self.range = _validation.check_float_range(
            "factor", factor, low=-1, high=1, owner=self
        )

    def matrix(self, seed, batch_size, image_shape):
        turns = sampling.uniform(seed, [batch_size], *self.range)
        return rotation_matrix(turns * (2.0 * math.pi))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomTranslation(roles.GeometricOp):
    """Shifts each image by its own random offset.

    Args:
        height_factor: A float ``f`` or a pair ``(low, high)``: the
            vertical shift as a fraction of the height, drawn from
            ``[-f, f]`` (or ``[low, high]``); positive moves down.
        width_factor: The same for the horizontal shift; positive moves
            right.
        probability: Chance, per example, that the image is shifted.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomTranslation(0.125, 0.125)
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    axis_aligned = True

    def __init__(self, height_factor, width_factor, probability=1.0):
        super().__init__(probability)
        self.height_factor = checks.config_value(height_factor)
        self.width_factor = checks.config_value(width_factor)
        self.height_range = _validation.check_float_range(
            "height_factor", height_factor, low=-1, high=1, owner=self
        )
        self.width_range = _validation.check_float_range(
            "width_factor", width_factor, low=-1, high=1, owner=self
        )

    def matrix(self, seed, batch_size, image_shape):
        y_seed, x_seed = sampling.split_seed(seed, 2)
        height, width = _size(image_shape[0]), _size(image_shape[1])
        dy = sampling.uniform(y_seed, [batch_size], *self.height_range)
        dx = sampling.uniform(x_seed, [batch_size], *self.width_range)
        return translation_matrix(dx * width, dy * height)

    def get_config(self):
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
        }


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomZoom(roles.GeometricOp):
    """Zooms each image in or out by its own random factor.

    Args:
        height_factor: A float ``f`` or a pair ``(low, high)``: the
            vertical zoom ``z`` is drawn from ``[-f, f]`` (or
            ``[low, high]``); ``z > 0`` zooms out (``1 + z`` times more of
            the image in view), ``z < 0`` zooms in. Bounds in (-1, 1].
        width_factor: The same for the width; None keeps the aspect ratio
            (the same draw as the height).
        probability: Chance, per example, that the image is zoomed.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomZoom(0.2)
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    axis_aligned = True

    def __init__(self, height_factor, width_factor=None, probability=1.0):
        super().__init__(probability)
        self.height_factor = checks.config_value(height_factor)
        self.width_factor = checks.config_value(width_factor)
        self.height_range = self._zoom_range("height_factor", height_factor)
        self.width_range = None
        if width_factor is not None:
            self.width_range = self._zoom_range("width_factor", width_factor)

    def _zoom_range(self, name, value):
        low, high = _validation.check_float_range(
            name, value, high=1.0, owner=self
        )
        if low <= -1.0:
            raise _validation.invalid(
                name, "zoom factors in (-1, 1]", value, owner=self
            )
        return low, high

    def matrix(self, seed, batch_size, image_shape):
        y_seed, x_seed = sampling.split_seed(seed, 2)
        zy = sampling.uniform(y_seed, [batch_size], *self.height_range)
        zx = zy
        if self.width_range is not None:
            zx = sampling.uniform(x_seed, [batch_size], *self.width_range)
        return scale_matrix(1.0 + zx, 1.0 + zy)

    def get_config(self):
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
        }


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomShear(roles.GeometricOp):
    """Shears each image by its own random amounts.

    Args:
        x_factor: A float ``f`` or a pair: the horizontal shear (input
            ``x`` moves by ``shear * y``) drawn from ``[-f, f]``.
        y_factor: The same for the vertical shear.
        probability: Chance, per example, that the image is sheared.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomShear(0.1)
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    def __init__(self, x_factor=0.0, y_factor=0.0, probability=1.0):
        super().__init__(probability)
        self.x_factor = checks.config_value(x_factor)
        self.y_factor = checks.config_value(y_factor)
        self.x_range = _validation.check_float_range(
            "x_factor", x_factor, owner=self
        )
        self.y_range = _validation.check_float_range(
            "y_factor", y_factor, owner=self
        )

    def matrix(self, seed, batch_size, image_shape):
        x_seed, y_seed = sampling.split_seed(seed, 2)
        shx = sampling.uniform(x_seed, [batch_size], *self.x_range)
        shy = sampling.uniform(y_seed, [batch_size], *self.y_range)
        return shear_matrix(shx, shy)

    def get_config(self):
        return {
            **super().get_config(),
            "x_factor": self.x_factor,
            "y_factor": self.y_factor,
        }


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomPadCrop(roles.GeometricOp):
    """Pads by ``padding`` pixels and crops back at a random offset.

    The classic CIFAR augmentation, as a whole-pixel translation in
    ``[-padding, padding]`` on each axis (the padding is the pipeline's
    fill mode: zeros by default, or ``"reflect"``).

    Args:
        padding: Pixels of padding on each side, an integer >= 0.
        probability: Chance, per example, of a random crop.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomPadCrop(4)
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    axis_aligned = True

    def __init__(self, padding=4, probability=1.0):
        super().__init__(probability)
        self.padding = _validation.check_int(
            "padding", padding, low=0, owner=self
        )

    def matrix(self, seed, batch_size, image_shape):
        shifts = tf.random.stateless_uniform(
            [2, batch_size],
            seed=seed,
            minval=-self.padding,
            maxval=self.padding + 1,
            dtype=tf.int32,
        )
        shifts = tf.cast(shifts, tf.float32)
        return translation_matrix(shifts[0], shifts[1])

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}
