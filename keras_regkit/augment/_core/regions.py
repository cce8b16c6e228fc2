"""Regions of an image as 0/1 masks: the boxes that occlusion and CutMix cut.

A box here is ``top, bottom, left, right`` in pixels (rows ``top <= y <
bottom``, columns ``left <= x < right``): the region an op erases or
pastes, not a bounding box of the data (`keras_regkit.augment._core
.boxes`).
"""

from __future__ import annotations

import tensorflow as tf


def box_mask(boxes, height, width):
    """The union of each example's boxes, as a 0/1 float32 mask.

    Args:
        boxes: float32 ``(batch, count, 4)``: top, bottom, left, right in
            pixels (rows ``top <= y < bottom``, columns ``left <= x <
            right``).
        height: Image height.
        width: Image width.

    Returns:
        float32 ``(batch, height, width)``: 1 inside a box.

    Example:
    >>> import tensorflow as tf
    >>> box_mask(tf.constant([[[0.0, 1.0, 1.0, 3.0]]]), 2, 3).numpy()
    array([[[0., 1., 1.],
            [0., 0., 0.]]], dtype=float32)
    """
    ys = tf.range(height, dtype=tf.float32)
    xs = tf.range(width, dtype=tf.float32)
    top, bottom = boxes[..., 0:1], boxes[..., 1:2]
    left, right = boxes[..., 2:3], boxes[..., 3:4]
    rows = tf.cast((ys >= top) & (ys < bottom), tf.float32)
    cols = tf.cast((xs >= left) & (xs < right), tf.float32)
    keep = tf.reduce_prod(1.0 - rows[..., :, None] * cols[..., None, :], 1)
    return 1.0 - keep
