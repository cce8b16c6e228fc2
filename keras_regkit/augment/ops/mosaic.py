"""Mosaic: four images into one, as in YOLO training, with their targets.

Example ``i`` of a batch of ``n`` becomes a mosaic of examples ``i``,
``i + 1``, ``i + 2`` and ``i + 3`` (modulo ``n``) laid out as a 2x2 grid
on a canvas twice the image size, ``[[i, i + 1], [i + 2, i + 3]]``, and
cropped back to the image size around a random centre ``(cy, cx)``: the
output's top-left quadrant ``[0, cy) x [0, cx)`` shows the bottom-right
part of image ``i``, the top-right quadrant the bottom-left part of
``i + 1``, and so on — whole pixels, no resampling. Segmentation masks
are laid out the same way; boxes are shifted with their image and
clipped to its quadrant (dropped, label -1, when less than the pipeline's
``bounding_box_min_visibility`` stays), so ``k`` boxes per image become
``4 k``; keypoints likewise (``4 k``, flagged outside their quadrant).
Image labels, if any, are mixed by quadrant area.

Reference:
    Bochkovskiy et al., "YOLOv4: Optimal Speed and Accuracy of Object
    Detection", 2020.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import boxes as box_ops
from keras_regkit.augment._core import labels as _labels
from keras_regkit.augment._core import roles
from keras_regkit.augment._core import sampling
from keras_regkit.augment._core import targets as _targets

# The quadrants in order: (is bottom, is right).
_QUADRANTS = ((0, 0), (0, 1), (1, 0), (1, 1))


def _windows(cy, cx, height, width):
    """Per quadrant: ``(shift_y, shift_x, window)``.

    The output pixel ``(y, x)`` of quadrant ``q`` shows pixel ``(y +
    shift_y, x + shift_x)`` of its source; ``window`` is the quadrant as
    an ``xyxy`` box ``(batch, 4)``.
    """
    h, w = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    zeros = tf.zeros_like(cy)
    out = []
    for bottom, right in _QUADRANTS:
        shift_y = -cy if bottom else h - cy
        shift_x = -cx if right else w - cx
        y0, y1 = (cy, zeros + h) if bottom else (zeros, cy)
        x0, x1 = (cx, zeros + w) if right else (zeros, cx)
        out.append((shift_y, shift_x, tf.stack([x0, y0, x1, y1], -1)))
    return out


def _lay_out(images, windows):
    """Images (any float batch) laid out as a mosaic by `_windows`."""
    shape = tf.shape(images)
    height, width = shape[1], shape[2]
    ys = tf.range(height, dtype=tf.float32)[None]
    xs = tf.range(width, dtype=tf.float32)[None]
    out = 0.0
    for q, (shift_y, shift_x, window) in enumerate(windows):
        source = tf.roll(images, -q, axis=0)
        rows = tf.cast(ys + shift_y[:, None], tf.int32)
        cols = tf.cast(xs + shift_x[:, None], tf.int32)
        rows = tf.clip_by_value(rows, 0, height - 1)
        cols = tf.clip_by_value(cols, 0, width - 1)
        moved = tf.gather(source, rows, axis=1, batch_dims=1)
        moved = tf.gather(moved, cols, axis=2, batch_dims=1)
        in_rows = (ys >= window[:, 1:2]) & (ys < window[:, 3:4])
        in_cols = (xs >= window[:, 0:1]) & (xs < window[:, 2:3])
        region = tf.cast(in_rows[:, :, None] & in_cols[:, None, :], tf.float32)
        out += region[..., None] * moved
    return out


def mosaic_targets(targets, windows, min_visibility):
    """Masks, boxes and keypoints of a mosaic (see the module).

    Args:
        targets: The internal targets dict.
        windows: `_windows`'s output.
        min_visibility: Boxes with less than this fraction of their area
            in their quadrant are removed (label -1).

    Returns:
        The targets: masks laid out; ``4 k`` boxes and keypoints, image
        ``i``'s first.
    """
    out = dict(targets)
    if "masks" in targets:
        out["masks"] = _lay_out(targets["masks"], windows)
    if "boxes" in targets:
        all_boxes, all_labels = [], []
        for q, (shift_y, shift_x, window) in enumerate(windows):
            shift = tf.stack([shift_x, shift_y, shift_x, shift_y], -1)
            moved = tf.roll(targets["boxes"], -q, axis=0) - shift[:, None]
            clipped = box_ops.intersect(moved, window)
            labels = box_ops.keep_visible(
                tf.roll(targets["box_labels"], -q, axis=0),
                box_ops.area(clipped),
                box_ops.area(moved),
                min_visibility,
            )
            all_boxes.append(clipped)
            all_labels.append(labels)
        out["boxes"] = tf.concat(all_boxes, axis=1)
        out["box_labels"] = tf.concat(all_labels, axis=1)
    if "keypoints" in targets:
        all_points, all_visibility, all_columns = [], [], []
        # The other columns (a visibility flag, ...) go with their points.
        columns = targets["keypoint_columns"]
        for q, (shift_y, shift_x, window) in enumerate(windows):
            shift = tf.stack([shift_x, shift_y], -1)[:, None]
            points = tf.roll(targets["keypoints"], -q, axis=0) - shift
            w = window[:, None]
            x, y = points[..., 0], points[..., 1]
            inside = (x >= w[..., 0]) & (x < w[..., 2])
            inside = inside & (y >= w[..., 1]) & (y < w[..., 3])
            visibility = tf.roll(targets["visibility"], -q, axis=0)
            all_points.append(points)
            all_visibility.append(visibility * tf.cast(inside, tf.float32))
            all_columns.append(tf.roll(columns, -q, axis=0))
        out["keypoints"] = tf.concat(all_points, axis=1)
        out["visibility"] = tf.concat(all_visibility, axis=1)
        out["keypoint_columns"] = tf.concat(all_columns, axis=1)
    return out


@keras.saving.register_keras_serializable(package="keras_regkit")
class Mosaic(roles.BatchOp):
    """Four images into one around a random centre, as in YOLO training.

    Each example is tiled with the next three of the batch (see the
    module); image labels, if any, are weighted by the area each image
    keeps; masks, boxes and keypoints follow their images. Where the op
    is not applied (``probability``) the example is unchanged and the
    other images' boxes come back as padding (label -1).

    Args:
        offset: ``(low, high)`` range of the mosaic centre, as fractions
            of the height and width (drawn independently), in [0, 1].
        num_classes: Number of classes, for sparse integer image labels
            (None: labels one-hot or absent).
        probability: Chance, per example, of a mosaic.

    Example:
    >>> import numpy as np
    >>> from keras_regkit import augment as rka
    >>> x = np.stack([np.full((4, 4, 1), v / 4, "float32") for v in range(4)])
    >>> out = rka.Pipeline([rka.Mosaic((0.5, 0.5))]).augment(x, seed=0)
    >>> for row in out[0, :, :, 0].numpy().tolist():  # the four quadrants
    ...     print(row)
    [0.0, 0.0, 0.25, 0.25]
    [0.0, 0.0, 0.25, 0.25]
    [0.5, 0.5, 0.75, 0.75]
    [0.5, 0.5, 0.75, 0.75]
    """

    supported_targets = _targets.KINDS

    def __init__(self, offset=(0.25, 0.75), num_classes=None, probability=1.0):
        super().__init__(probability)
        if not isinstance(offset, (list, tuple)):
            raise _validation.invalid(
                "offset",
                "a pair (low, high) in [0, 1]",
                offset,
                owner=self,
                error=TypeError,
            )
        self.offset = list(
            _validation.check_float_range(
                "offset", offset, low=0.0, high=1.0, owner=self
            )
        )
        self.num_classes = num_classes
        if num_classes is not None:
            self.num_classes = _validation.check_int(
                "num_classes", num_classes, low=1, owner=self
            )

    def validate(self, shape, has_labels=False, labels_spec=None):
        _labels.check_labels(self, labels_spec, self.num_classes)

    def checked_labels(self, labels):
        """The labels, bad values refused (`labels.check_label_values`)."""
        return _labels.check_label_values(self, labels, self.num_classes)

    def _sample(self, seed, batch_size, shape):
        y_seed, x_seed, gate_seed = sampling.split_seed(seed, 3)
        height = tf.cast(shape[0], tf.float32)
        width = tf.cast(shape[1], tf.float32)
        cy = tf.floor(
            sampling.uniform(y_seed, [batch_size], *self.offset) * height
        )
        cx = tf.floor(
            sampling.uniform(x_seed, [batch_size], *self.offset) * width
        )
        if self.probability < 1.0:
            gate = sampling.bernoulli(gate_seed, [batch_size], self.probability)
            # Not applied: the centre at the bottom-right corner, so the
            # whole output is the example's own image, unmoved.
            cy = height + gate * (cy - height)
            cx = width + gate * (cx - width)
        size = tf.ones([batch_size])
        return {
            "cy": cy,
            "cx": cx,
            "height": size * height,
            "width": size * width,
        }

    def _windows(self, params):
        return _windows(
            params["cy"], params["cx"], params["height"], params["width"]
        )

    def mix(self, images, labels, params):
        """The mosaics of a batch, labels weighted by quadrant area."""
        windows = self._windows(params)
        out = _lay_out(images, windows)
        labels = _labels.soft_labels(labels, self.num_classes)
        if labels is None:
            return out, None
        shape = tf.shape(images)
        total = tf.cast(shape[1] * shape[2], tf.float32)
        mixed = 0.0
        for q, (_, _, window) in enumerate(windows):
            fraction = box_ops.area(window) / total
            mixed += fraction[:, None] * tf.roll(labels, -q, axis=0)
        return out, mixed

    def mix_targets(self, targets, params, target_settings):
        """The targets laid out as the images are (`mosaic_targets`)."""
        windows = self._windows(params)
        return mosaic_targets(
            targets, windows, target_settings["min_visibility"]
        )

    def get_config(self):
        return {
            **super().get_config(),
            "offset": self.offset,
            "num_classes": self.num_classes,
        }
