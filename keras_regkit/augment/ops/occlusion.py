"""Occlusion: random erasing, cutout and GridMask, as multiplicative masks.

Boxes are drawn per example (``(batch, count, 4)`` corners: top, bottom,
left, right, in pixels); the transform turns them into a separable mask
(an outer product of a row and a column mask per box) and fills the
masked pixels with a constant, one random colour per image
(``"random"``) or random values per pixel (``"per_pixel"``), uniform in
[0, 1].

Segmentation masks carried with the images (a dict batch, see
`Pipeline`) are left as they are unless ``mask_value`` is given: the
erased pixels of the masks are then set to it (an "ignore" class, say).
Boxes and keypoints are left as they are.

References:
    Zhong et al., "Random Erasing Data Augmentation", 2017.
    DeVries and Taylor, "Improved Regularization of Convolutional Neural
    Networks with Cutout", 2017.
    Chen et al., "GridMask Data Augmentation", 2020.
"""

from __future__ import annotations

import math
import numbers

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import checks
from keras_regkit.augment._core import regions
from keras_regkit.augment._core import roles
from keras_regkit.augment._core import sampling
from keras_regkit.augment._core import targets as _targets

FILLS = ("random", "per_pixel")


def erase(images, boxes, fill):
    """Fills the boxes of each image with ``fill``.

    Args:
        images: float32 ``(batch, h, w, c)``.
        boxes: ``(batch, count, 4)`` boxes (top, bottom, left, right).
        fill: A float, or a tensor broadcastable to ``images``.

    Returns:
        The images with the boxes filled.

    Example:
    >>> import tensorflow as tf
    >>> x = tf.ones([1, 2, 2, 1])
    >>> erase(x, tf.constant([[[0.0, 1.0, 0.0, 1.0]]]), 0.0)[0, ..., 0]
    ... # doctest: +NORMALIZE_WHITESPACE
    <tf.Tensor: shape=(2, 2), dtype=float32, numpy=
    array([[0., 1.], [1., 1.]], dtype=float32)>
    """
    shape = tf.shape(images)
    mask = regions.box_mask(boxes, shape[1], shape[2])[..., None]
    return images + mask * (fill - images)


class _Occlusion(roles.ValueOp):
    """Shared fill handling; subclasses draw the boxes."""

    _gated = False

    def __init__(self, value, count, probability, mask_value=None):
        super().__init__(probability)
        self.mask_value = mask_value
        if mask_value is not None:
            self.mask_value = _validation.check_float(
                "mask_value", mask_value, owner=self
            )
            if float(self.mask_value).is_integer():
                self.mask_value = int(self.mask_value)
        if isinstance(value, str):
            self.value = _validation.check_choice(
                "value", value, choices=FILLS, owner=self
            )
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            self.value = _validation.check_float(
                "value", value, low=0, high=1, owner=self
            )
        else:
            raise _validation.invalid(
                "value",
                "a float in [0, 1], 'random' or 'per_pixel'",
                value,
                owner=self,
                error=TypeError,
            )
        self.count = _validation.check_int("count", count, low=1, owner=self)

    def _fill(self, seed, batch_size, image_shape):
        if self.value == "random":
            shape = [batch_size, 1, 1, image_shape[2]]
            return {"fill": sampling.uniform(seed, shape)}
        if self.value == "per_pixel":
            shape = [batch_size, *image_shape]
            return {"fill": sampling.uniform(seed, shape)}
        return {}

    def _sample(self, seed, batch_size, image_shape):
        box_seed, fill_seed, gate_seed = sampling.split_seed(seed, 3)
        boxes = self._boxes(box_seed, batch_size, image_shape)
        if self.probability < 1.0:
            gate = sampling.bernoulli(gate_seed, [batch_size], self.probability)
            # An empty box (bottom = top) where the op is not applied.
            gate = gate[:, None]
            boxes = tf.stack(
                [
                    boxes[..., 0],
                    boxes[..., 0] + gate * (boxes[..., 1] - boxes[..., 0]),
                    boxes[..., 2],
                    boxes[..., 3],
                ],
                axis=-1,
            )
        return {
            "boxes": boxes,
            **self._fill(fill_seed, batch_size, image_shape),
        }

    def apply(self, images, params):
        fill = params.get("fill", self.value)
        return erase(images, params["boxes"], fill)

    def _region(self, params, height, width):
        return regions.box_mask(params["boxes"], height, width)

    def apply_to_targets(self, targets, params):
        if self.mask_value is None or "masks" not in targets:
            return targets
        shape = tf.shape(targets["masks"])
        region = self._region(params, shape[1], shape[2])
        return _targets.fill_masks(
            targets, region, self.mask_value, params.get("gate")
        )

    def get_config(self):
        return {
            **super().get_config(),
            "value": self.value,
            "count": self.count,
            "mask_value": self.mask_value,
        }


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomErasing(_Occlusion):
    """Erases random rectangles of random area and aspect ratio.

    As Zhong et al.: each box's area is a fraction of the image drawn from
    ``scale``, its aspect ratio (height / width) log-uniformly from
    ``ratio``; of ten draws per box the first that fits inside the image
    is used (none: no box). Sides are rounded to whole pixels.

    Args:
        probability: Chance, per example, that the image is erased.
        scale: ``(low, high)`` area fractions, in (0, 1].
        ratio: ``(low, high)`` aspect ratios, > 0.
        value: A float in [0, 1], ``"random"`` (one uniform colour per
            image) or ``"per_pixel"`` (uniform noise).
        count: Boxes per image.
        mask_value: None to leave segmentation masks as they are, or the
            value written into the erased pixels of the masks.

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> op = rk.augment.RandomErasing(scale=(0.1, 0.2))
    >>> rk.augment.Pipeline([op], seed=0).augment(images, seed=1).shape
    TensorShape([4, 32, 32, 3])
    """

    ATTEMPTS = 10

    def __init__(
        self,
        probability=0.5,
        scale=(0.02, 0.33),
        ratio=(0.3, 3.3),
        value=0.0,
        count=1,
        mask_value=None,
    ):
        super().__init__(value, count, probability, mask_value)
        self.scale = checks.config_value(scale)
        self.ratio = checks.config_value(ratio)
        checks.check_positive_pair("scale", scale, high=1.0, owner=self)
        checks.check_positive_pair("ratio", ratio, owner=self)

    def _boxes(self, seed, batch_size, image_shape):
        area_seed, ratio_seed, y_seed, x_seed = sampling.split_seed(seed, 4)
        height = tf.cast(image_shape[0], tf.float32)
        width = tf.cast(image_shape[1], tf.float32)
        shape = [batch_size, self.count, self.ATTEMPTS]
        area = sampling.uniform(area_seed, shape, *self.scale) * height * width
        aspect = tf.exp(
            sampling.uniform(
                ratio_seed,
                shape,
                math.log(self.ratio[0]),
                math.log(self.ratio[1]),
            )
        )
        box_h = tf.round(tf.sqrt(area * aspect))
        box_w = tf.round(tf.sqrt(area / aspect))
        fits = (box_h < height) & (box_w < width) & (box_h > 0) & (box_w > 0)
        first = tf.argmax(
            tf.cast(fits, tf.int32), axis=-1, output_type=tf.int32
        )
        found = tf.cast(tf.reduce_any(fits, axis=-1), tf.float32)
        box_h = tf.gather(box_h, first, batch_dims=2) * found
        box_w = tf.gather(box_w, first, batch_dims=2) * found
        shape = [batch_size, self.count]
        top = tf.floor(sampling.uniform(y_seed, shape) * (height - box_h + 1.0))
        left = tf.floor(sampling.uniform(x_seed, shape) * (width - box_w + 1.0))
        return tf.stack([top, top + box_h, left, left + box_w], axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.scale,
            "ratio": self.ratio,
        }


@keras.saving.register_keras_serializable(package="keras_regkit")
class RandomCutout(_Occlusion):
    """Erases fixed-size boxes centred anywhere in the image (clipped).

    As DeVries and Taylor: the centre is uniform over the image, so boxes
    near an edge are cut by it.

    Args:
        height: Box height in pixels.
        width: Box width in pixels; None for ``height``.
        count: Boxes per image.
        value: A float in [0, 1], ``"random"`` or ``"per_pixel"``.
        probability: Chance, per example, that the image is cut out.
        mask_value: None to leave segmentation masks as they are, or the
            value written into the cut-out pixels of the masks.

    Example:
    >>> import numpy as np
    >>> from keras_regkit.augment import Pipeline, RandomCutout
    >>> x = np.ones((4, 32, 32, 3), "float32")
    >>> out = Pipeline([RandomCutout(16)]).augment(x, seed=0).numpy()
    >>> bool((out == 0).any()), bool((out == 0).mean() <= 0.25)
    (True, True)
    """

    def __init__(
        self,
        height=16,
        width=None,
        count=1,
        value=0.0,
        probability=1.0,
        mask_value=None,
    ):
        super().__init__(value, count, probability, mask_value)
        self.height = _validation.check_int("height", height, low=1, owner=self)
        self.width = width
        if width is not None:
            self.width = _validation.check_int(
                "width", width, low=1, owner=self
            )

    def _boxes(self, seed, batch_size, image_shape):
        y_seed, x_seed = sampling.split_seed(seed, 2)
        height = tf.cast(image_shape[0], tf.float32)
        width = tf.cast(image_shape[1], tf.float32)
        box_h = float(self.height)
        box_w = float(self.width if self.width is not None else self.height)
        shape = [batch_size, self.count]
        cy = tf.floor(sampling.uniform(y_seed, shape) * height)
        cx = tf.floor(sampling.uniform(x_seed, shape) * width)
        top = tf.clip_by_value(cy - box_h // 2, 0.0, height)
        left = tf.clip_by_value(cx - box_w // 2, 0.0, width)
        bottom = tf.clip_by_value(cy - box_h // 2 + box_h, 0.0, height)
        right = tf.clip_by_value(cx - box_w // 2 + box_w, 0.0, width)
        return tf.stack([top, bottom, left, right], axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
        }


def grid_mask(height, width, unit, size, offset_y, offset_x):
    """Square grids of dropped cells, one grid per example.

    A pixel ``(y, x)`` is dropped where ``(y - offset_y) mod unit <
    size`` and ``(x - offset_x) mod unit < size``: ``size x size``
    squares repeating every ``unit`` pixels on both axes.

    Args:
        height: Image height.
        width: Image width.
        unit: float32 ``(batch,)`` grid periods in pixels.
        size: float32 ``(batch,)`` sides of the dropped squares.
        offset_y: float32 ``(batch,)`` vertical offsets of the grid.
        offset_x: float32 ``(batch,)`` horizontal offsets of the grid.

    Returns:
        float32 ``(batch, height, width)``: 1 where dropped.

    Example:
    >>> import tensorflow as tf
    >>> one = tf.constant([1.0])
    >>> grid_mask(3, 4, 2 * one, one, 0 * one, one)[0].numpy()
    array([[0., 1., 0., 1.],
           [0., 0., 0., 0.],
           [0., 1., 0., 1.]], dtype=float32)
    """

    def axis(length, offset):
        positions = tf.range(length, dtype=tf.float32)[None, :]
        phase = tf.math.floormod(positions - offset[:, None], unit[:, None])
        return tf.cast(phase < size[:, None], tf.float32)

    rows = axis(height, offset_y)
    cols = axis(width, offset_x)
    return rows[:, :, None] * cols[:, None, :]


@keras.saving.register_keras_serializable(package="keras_regkit")
class GridMask(_Occlusion):
    """Drops a grid of squares, its period and offset drawn per example.

    As Chen et al. (the squares dropped, without the grid rotation): the
    period ``d`` is drawn uniformly from the integers in ``unit``, the
    squares' side is ``round(d * ratio)`` (so about ``ratio²`` of the
    image is dropped), and the grid is shifted by a random offset in
    ``[0, d)`` on each axis.

    Args:
        unit: ``(low, high)`` grid periods in pixels, integers >= 2.
        ratio: Side of the dropped squares as a fraction of the period,
            in (0, 1).
        value: A float in [0, 1], ``"random"`` (one uniform colour per
            image) or ``"per_pixel"`` (uniform noise).
        probability: Chance, per example, that the grid is applied.
        mask_value: None to leave segmentation masks as they are, or the
            value written into the dropped pixels of the masks.

    Reference:
        Chen et al., "GridMask Data Augmentation", 2020.

    Example:
    >>> import numpy as np
    >>> from keras_regkit.augment import GridMask, Pipeline
    >>> x = np.ones((2, 16, 24, 3), "float32")
    >>> out = Pipeline([GridMask((8, 8), 0.5)]).augment(x, seed=0)
    >>> float((out.numpy() == 0).mean())
    0.25
    """

    _gated = True

    def __init__(
        self,
        unit=(16, 48),
        ratio=0.5,
        value=0.0,
        probability=1.0,
        mask_value=None,
    ):
        super().__init__(value, 1, probability, mask_value)
        if not isinstance(unit, (list, tuple)) or len(unit) != 2:
            raise _validation.invalid(
                "unit",
                "a pair (low, high) of integers",
                unit,
                owner=self,
                error=TypeError,
            )
        low, high = (
            _validation.check_int("unit", u, low=2, owner=self) for u in unit
        )
        if low > high:
            raise _validation.invalid(
                "unit", "a pair (low, high) with low <= high", unit, owner=self
            )
        self.unit = [low, high]
        self.ratio = _validation.check_float(
            "ratio",
            ratio,
            low=0.0,
            high=1.0,
            low_inclusive=False,
            high_inclusive=False,
            owner=self,
        )

    def _sample(self, seed, batch_size, image_shape):
        unit_seed, y_seed, x_seed, fill_seed = sampling.split_seed(seed, 4)
        unit = tf.random.stateless_uniform(
            [batch_size],
            seed=unit_seed,
            minval=self.unit[0],
            maxval=self.unit[1] + 1,
            dtype=tf.int32,
        )
        unit = tf.cast(unit, tf.float32)
        return {
            "unit": unit,
            "size": tf.round(unit * self.ratio),
            "offset_y": tf.floor(sampling.uniform(y_seed, [batch_size]) * unit),
            "offset_x": tf.floor(sampling.uniform(x_seed, [batch_size]) * unit),
            **self._fill(fill_seed, batch_size, image_shape),
        }

    def _region(self, params, height, width):
        return grid_mask(
            height,
            width,
            params["unit"],
            params["size"],
            params["offset_y"],
            params["offset_x"],
        )

    def apply(self, images, params):
        shape = tf.shape(images)
        mask = self._region(params, shape[1], shape[2])[..., None]
        fill = params.get("fill", self.value)
        return images + mask * (fill - images)

    def get_config(self):
        config = super().get_config()
        del config["count"]
        return {**config, "unit": self.unit, "ratio": self.ratio}
