"""Bounding-box formats, as Keras 3 names them, and box geometry.

A box is four numbers whose meaning the format gives (Keras 3's names,
``keras.utils.bounding_boxes.convert_format``):

==================  ==========================================
format              the four numbers
==================  ==========================================
``xyxy``            left, top, right, bottom
``yxyx``            top, left, bottom, right
``xywh``            left, top, width, height
``center_xywh``     centre x, centre y, width, height
``center_yxhw``     centre y, centre x, height, width
``rel_*``           the same, divided by the image's width and
                    height (``rel_xyxy``, ``rel_yxyx``,
                    ``rel_xywh``, ``rel_center_xywh``)
==================  ==========================================

Absolute coordinates are in pixels, the image spanning ``[0, width] x
[0, height]`` (pixel ``(row, col)`` covers ``[col, col + 1] x [row, row +
1]``, its centre at ``(col + 0.5, row + 0.5)``). Inside a pipeline every
box is ``xyxy`` in pixels; conversion happens once on the way in and once
on the way out.
"""

from __future__ import annotations

import tensorflow as tf

from keras_regkit.augment._core import checks

FORMATS = (
    "xyxy",
    "yxyx",
    "xywh",
    "center_xywh",
    "center_yxhw",
    "rel_xyxy",
    "rel_yxyx",
    "rel_xywh",
    "rel_center_xywh",
)

# The order of the four numbers of each absolute format, as a function of
# (left, top, right, bottom) and back.


def _from_xyxy(x1, y1, x2, y2, fmt):
    if fmt == "xyxy":
        return x1, y1, x2, y2
    if fmt == "yxyx":
        return y1, x1, y2, x2
    if fmt == "xywh":
        return x1, y1, x2 - x1, y2 - y1
    if fmt == "center_xywh":
        return (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
    # center_yxhw
    return (y1 + y2) / 2, (x1 + x2) / 2, y2 - y1, x2 - x1


def _to_xyxy(a, b, c, d, fmt):
    if fmt == "xyxy":
        return a, b, c, d
    if fmt == "yxyx":
        return b, a, d, c
    if fmt == "xywh":
        return a, b, a + c, b + d
    if fmt == "center_xywh":
        return a - c / 2, b - d / 2, a + c / 2, b + d / 2
    # center_yxhw: a = cy, b = cx, c = h, d = w
    return b - d / 2, a - c / 2, b + d / 2, a + c / 2


def to_xyxy(boxes, fmt, height, width):
    """Boxes in ``fmt`` as float32 ``xyxy`` in pixels.

    Args:
        boxes: ``(..., 4)`` numbers.
        fmt: One of `FORMATS`.
        height: The image's height in pixels (for ``rel_*`` formats).
        width: The image's width in pixels.

    Returns:
        float32 ``(..., 4)``: left, top, right, bottom in pixels.

    Example:
    >>> to_xyxy([[0.5, 0.5, 0.5, 0.25]], "rel_center_xywh", 40, 20).numpy()
    array([[ 5., 15., 15., 25.]], dtype=float32)
    """
    boxes = tf.cast(boxes, tf.float32)
    a, b, c, d = tf.unstack(boxes, 4, axis=-1)
    relative = fmt.startswith("rel_")
    x1, y1, x2, y2 = _to_xyxy(a, b, c, d, fmt.removeprefix("rel_"))
    if relative:
        w, h = tf.cast(width, tf.float32), tf.cast(height, tf.float32)
        x1, y1, x2, y2 = x1 * w, y1 * h, x2 * w, y2 * h
    return tf.stack([x1, y1, x2, y2], axis=-1)


def from_xyxy(boxes, fmt, height, width):
    """float32 ``xyxy`` boxes in pixels, converted to ``fmt``.

    The inverse of `to_xyxy`.

    Example:
    >>> from_xyxy([[5.0, 15.0, 15.0, 25.0]], "yxyx", 40, 20).numpy()
    array([[15.,  5., 25., 15.]], dtype=float32)
    """
    boxes = tf.cast(boxes, tf.float32)
    x1, y1, x2, y2 = tf.unstack(boxes, 4, axis=-1)
    if fmt.startswith("rel_"):
        w, h = tf.cast(width, tf.float32), tf.cast(height, tf.float32)
        x1, y1, x2, y2 = x1 / w, y1 / h, x2 / w, y2 / h
    out = _from_xyxy(x1, y1, x2, y2, fmt.removeprefix("rel_"))
    return tf.stack(out, axis=-1)


def check_values(boxes, labels, raw, fmt, owner=None):
    """``xyxy`` boxes, NaN, infinite or inverted ones refused.

    Every pipeline checks its input boxes once, on the way in: a geometric
    op would drop such a box, a photometric one pass it through. Padding
    (label -1) is not checked. Eagerly a ValueError, in a graph a
    `tf.debugging` assertion with the same message
    (`keras_regkit.augment.checks.check_at_run_time`).

    Args:
        boxes: float32 ``(batch, n, 4)`` ``xyxy`` boxes (`to_xyxy`).
        labels: ``(batch, n)`` box labels.
        raw: The boxes as given (named in the message).
        fmt: Their format.
        owner: Named in the message.

    Returns:
        ``boxes``.

    Example:
    >>> raw = [[[1.0, 0, -2, 2]]]
    >>> check_values(to_xyxy(raw, "xywh", 9, 9), [[1]], raw, "xywh")
    ... # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: Invalid value received for argument `bounding_boxes`.
    Expected finite boxes with left <= right and top <= bottom (padding:
    label -1). Received: bounding_boxes=[[1 0 -2 2]] (format xywh)
    """
    x1, y1, x2, y2 = tf.unstack(boxes, 4, axis=-1)
    good = tf.reduce_all(tf.math.is_finite(boxes), axis=-1)
    good = good & (x1 <= x2) & (y1 <= y2)
    labels = tf.convert_to_tensor(labels)
    bad = ~good & tf.not_equal(labels, tf.cast(-1, labels.dtype))
    return checks.check_at_run_time(
        boxes,
        ~tf.reduce_any(bad),
        "bounding_boxes",
        "finite boxes with left <= right and top <= bottom (padding: label -1)",
        f"{{}} (format {fmt})",
        [tf.boolean_mask(raw, bad)],
        owner=owner,
    )


def area(boxes):
    """The area of ``xyxy`` boxes (0 for empty or inverted ones)."""
    width = tf.maximum(boxes[..., 2] - boxes[..., 0], 0.0)
    height = tf.maximum(boxes[..., 3] - boxes[..., 1], 0.0)
    return width * height


def clip(boxes, height, width):
    """``xyxy`` boxes clipped to the image ``[0, width] x [0, height]``."""
    w, h = tf.cast(width, tf.float32), tf.cast(height, tf.float32)
    x1, y1, x2, y2 = tf.unstack(boxes, 4, axis=-1)
    return tf.stack(
        [
            tf.clip_by_value(x1, 0.0, w),
            tf.clip_by_value(y1, 0.0, h),
            tf.clip_by_value(x2, 0.0, w),
            tf.clip_by_value(y2, 0.0, h),
        ],
        axis=-1,
    )


def intersect(boxes, window):
    """``xyxy`` boxes intersected with a window per example.

    Args:
        boxes: ``(batch, n, 4)`` ``xyxy`` boxes.
        window: ``(batch, 4)`` ``xyxy`` windows.

    Returns:
        ``(batch, n, 4)``; empty intersections have zero `area`.
    """
    window = window[:, None, :]
    return tf.concat(
        [
            tf.maximum(boxes[..., :2], window[..., :2]),
            tf.minimum(boxes[..., 2:], window[..., 2:]),
        ],
        axis=-1,
    )


def keep_visible(labels, visible_area, full_area, min_visibility):
    """Labels set to -1 (Keras's padding) where too little stays visible.

    A box is kept where its visible area is positive and at least
    ``min_visibility`` of its full area.

    Args:
        labels: ``(batch, n)`` box labels; -1 marks padding.
        visible_area: ``(batch, n)`` areas that stay visible.
        full_area: ``(batch, n)`` areas before clipping or occlusion.
        min_visibility: A float in [0, 1].

    Returns:
        The labels, -1 where a box is removed.

    Example:
    >>> import tensorflow as tf
    >>> keep_visible(tf.constant([[3, 4, 5]]), tf.constant([[1.0, 0.2, 0]]),
    ...              tf.constant([[1.0, 1.0, 1.0]]), 0.5).numpy()
    array([[ 3, -1, -1]], dtype=int32)
    """
    keep = (visible_area > 0.0) & (visible_area >= min_visibility * full_area)
    return tf.where(keep, labels, tf.cast(-1, labels.dtype))
