"""Targets that move with the images: segmentation masks, boxes, keypoints.

A `Pipeline` takes them in Keras 3's dict convention (its preprocessing
layers' names), plus keypoints::

    {
        "images": (batch, height, width, channels),
        "labels": ...,                      # optional, image labels
        "segmentation_masks": (batch, height, width[, 1]),
        "bounding_boxes": {"boxes": (batch, n, 4), "labels": (batch, n)},
        "keypoints": (batch, k, 2) or (batch, k, 3) (or more columns),
    }

and returns the same structure, every target moved with its image:

* **segmentation masks** (any dtype: class ids, 0/1, bool; the images'
  size, checked at run time where shapes are unknown) are resampled
  with nearest-neighbour interpolation through the same matrix as the
  images; points from outside the image take the pipeline's
  ``mask_fill_value`` with ``fill_mode="constant"`` (0 by default, as
  Keras's layers fill masks; 255 is a common "ignore" class, see
  ``ignore_class`` of Keras's ``SparseCategoricalCrossentropy``), or are
  reflected / extended like the images with the other fill modes;
* **bounding boxes** in the pipeline's ``bounding_box_format`` (Keras's
  names, `keras_regkit.augment._core.boxes`): each becomes the box of its four
  transformed corners (under a rotation or a shear it therefore contains
  the object's box), clipped to the image; a box of which less than
  ``bounding_box_min_visibility`` of its area stays inside the image (or
  none at all) is removed: its label becomes -1 and its four numbers -1,
  Keras's padding (``MaxNumBoundingBoxes``); the fraction is measured at
  each fused geometric stage (once for consecutive geometric ops, which
  are one matrix). Dense boxes keep their count
  (padding entries, label -1, stay padding); ragged boxes
  (`tf.RaggedTensor`, ``(batch, None, 4)`` and ``(batch, None)``) come
  back ragged, removed boxes dropped. Boxes with NaN or infinite
  numbers, or inverted (left > right or top > bottom), raise in every
  pipeline, colour-only ones included (padding, label -1, excepted);
* **keypoints** ``(x, y)`` in pixels (the image spans ``[0, width]``, the
  centre of pixel ``(row, col)`` is ``(col + 0.5, row + 0.5)``) are moved
  by the inverse of the output-to-input matrix. With three columns the
  third is a visibility flag (COCO's ``v``; > 0 visible), kept, and set
  to 0 where a point leaves the image (its coordinates are still
  returned); further columns (a score, an id) are carried unchanged,
  `Mosaic` included. With two columns a point that leaves the image
  becomes ``(-1, -1)``; a ``(-1, -1)`` point is taken as absent.

Photometric ops leave every target unchanged; erasing ops can fill the
erased part of the masks (their ``mask_value``); CutMix and `Mosaic` mix
masks and boxes of several images. An op that cannot keep a target
consistent with its image (MixUp blends two images: their masks and boxes
cannot be blended) raises ValueError naming itself and the target when
the pipeline meets the data (`Pipeline.validate`, or when a dataset is
mapped, before its first element). Values (boxes, and masks of unknown
size) are checked on every batch: eagerly a ValueError, inside a
dataset's ``map`` a failed `tf.debugging` assertion with the same
message (`keras_regkit.augment.checks.check_at_run_time`).

Inside a pipeline the targets are a dict of float32 tensors (`encode`):
``"masks"`` ``(batch, h, w, c)``, ``"boxes"`` ``(batch, n, 4)`` ``xyxy``
in pixels with ``"box_labels"`` ``(batch, n)``, ``"keypoints"`` ``(batch,
k, 2)`` in pixels with ``"visibility"`` ``(batch, k)`` 0/1 and
``"keypoint_columns"`` ``(batch, k, columns - 2)``, the other columns.
"""

from __future__ import annotations

import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import boxes as box_ops
from keras_regkit.augment._core import checks
from keras_regkit.augment._core import resample

MASKS = "segmentation_masks"
BOXES = "bounding_boxes"
KEYPOINTS = "keypoints"
KINDS = (MASKS, BOXES, KEYPOINTS)


def kinds_of(targets):
    """The user-facing names of the targets present in an internal dict.

    Example:
    >>> kinds_of({"masks": 0, "boxes": 0, "box_labels": 0})
    ('segmentation_masks', 'bounding_boxes')
    """
    if not targets:
        return ()
    present = {"masks": MASKS, "boxes": BOXES, "keypoints": KEYPOINTS}
    return tuple(name for key, name in present.items() if key in targets)


def settings(mask_fill_value=0, min_visibility=0.0, box_format=None):
    """A pipeline's target settings, as a dict (see `Pipeline`).

    Example:
    >>> settings(mask_fill_value=255)["mask_fill_value"]
    255
    """
    return {
        "mask_fill_value": mask_fill_value,
        "min_visibility": min_visibility,
        "box_format": box_format,
    }


DEFAULT_SETTINGS = settings()


def _check_rank(name, tensor, ranks, expected, owner):
    if tensor.shape.rank not in ranks:
        raise _validation.invalid(
            name, expected, tuple(tensor.shape), owner=owner
        )


def _as_tensor(value, name=None, owner=None):
    """A tensor; ragged tensors only where ``name`` is None (boxes)."""
    if isinstance(value, tf.RaggedTensor):
        if name is not None:
            raise _validation.invalid(
                name,
                f"dense {name} (one size per batch)",
                "a RaggedTensor",
                owner=owner,
            )
        return value
    return tf.convert_to_tensor(value)


def _check_mask_size(masks, height, width, owner):
    """Masks of the images' size: refused when tracing or at run time."""
    dims = tf.shape(masks)
    size = [
        masks.shape[i] if masks.shape[i] is not None else dims[i]
        for i in (1, 2)
    ]
    sizes = (*size, height, width)
    if all(isinstance(v, int) for v in sizes):
        same = tuple(size) == (height, width)
    else:  # Unknown shapes (a decode, `from_generator`): run time.
        same = tf.reduce_all(tf.equal(sizes[:2], sizes[2:]))
    return checks.check_at_run_time(
        masks,
        same,
        MASKS,
        "masks the size of their images",
        "({}, {}) for images of size ({}, {})",
        sizes,
        owner=owner,
    )


def _encode_masks(masks, height, width, owner):
    masks = _as_tensor(masks, MASKS, owner)
    expected = (
        "masks shaped (batch, height, width) or (batch, height, width, 1)"
    )
    _check_rank(MASKS, masks, (3, 4), expected, owner)
    masks = _check_mask_size(masks, height, width, owner)
    rank, dtype = masks.shape.rank, masks.dtype
    encoded = tf.cast(masks, tf.float32)
    if rank == 3:
        encoded = encoded[..., None]

    def decode(out):
        if dtype == tf.bool:  # Fill values other than 0 read as True.
            out = tf.not_equal(out, 0.0)
        elif dtype.is_integer:
            out = tf.round(out)
        out = tf.cast(out, dtype)
        return out[..., 0] if rank == 3 else out

    return encoded, decode


def _encode_boxes(value, height, width, box_format, owner):
    expected = "a dict {'boxes': (batch, n, 4), 'labels': (batch, n)}"
    if not isinstance(value, dict) or sorted(value) != ["boxes", "labels"]:
        shown = sorted(value) if isinstance(value, dict) else value
        raise _validation.invalid(BOXES, expected, shown, owner=owner)
    if box_format is None:
        raise _validation.invalid(
            "bounding_box_format",
            f"one of {box_ops.FORMATS} (given once on the Pipeline) for "
            "data with 'bounding_boxes'",
            None,
            owner=owner,
        )
    raw_boxes, raw_labels = (
        _as_tensor(value["boxes"]),
        _as_tensor(value["labels"]),
    )
    ragged = isinstance(raw_boxes, tf.RaggedTensor)
    if ragged != isinstance(raw_labels, tf.RaggedTensor):
        raise _validation.invalid(
            BOXES,
            "boxes and labels both dense or both ragged",
            "a mix",
            owner=owner,
        )
    if ragged:
        raw_boxes = raw_boxes.to_tensor(default_value=-1)
        raw_labels = raw_labels.to_tensor(default_value=-1)
    if raw_boxes.shape.rank != 3 or raw_boxes.shape[-1] != 4:
        raise _validation.invalid(
            BOXES,
            "boxes shaped (batch, n, 4)",
            tuple(raw_boxes.shape),
            owner=owner,
        )
    counts = raw_boxes.shape[:2], raw_labels.shape[:2]
    if raw_labels.shape.rank != 2 or not counts[0].is_compatible_with(
        counts[1]
    ):
        raise _validation.invalid(
            BOXES,
            "labels shaped (batch, n)",
            tuple(raw_labels.shape),
            owner=owner,
        )
    dtype = raw_boxes.dtype

    def decode(out_boxes, out_labels, out_height, out_width):
        out_boxes = box_ops.from_xyxy(
            out_boxes, box_format, out_height, out_width
        )
        padding = (out_labels == -1)[..., None]
        out_boxes = tf.where(padding, -1.0, out_boxes)
        if dtype.is_integer:
            out_boxes = tf.round(out_boxes)
        out_boxes = tf.cast(out_boxes, dtype)
        if ragged:
            keep = out_labels != -1
            return {
                "boxes": tf.ragged.boolean_mask(out_boxes, keep),
                "labels": tf.ragged.boolean_mask(out_labels, keep),
            }
        return {"boxes": out_boxes, "labels": out_labels}

    xyxy = box_ops.to_xyxy(raw_boxes, box_format, height, width)
    xyxy = box_ops.check_values(xyxy, raw_labels, raw_boxes, box_format, owner)
    return xyxy, raw_labels, decode


def _encode_keypoints(value, owner):
    points = _as_tensor(value, KEYPOINTS, owner)
    expected = (
        "keypoints shaped (batch, k, 2), or (batch, k, c) with c >= 3 (x, "
        "y, a visibility flag, other columns)"
    )
    _check_rank(KEYPOINTS, points, (3,), expected, owner)
    columns, dtype = points.shape[-1], points.dtype
    if columns is None or columns < 2 or dtype == tf.bool:
        raise _validation.invalid(
            KEYPOINTS, expected, tuple(points.shape), owner=owner
        )
    points = tf.cast(points, tf.float32)
    xy, extra = points[..., :2], points[..., 2:]
    if columns > 2:
        visibility = tf.cast(points[..., 2] > 0, tf.float32)
    else:
        absent = tf.reduce_all(tf.equal(xy, -1.0), axis=-1)
        visibility = 1.0 - tf.cast(absent, tf.float32)

    def decode(out_xy, out_visibility, out_extra):
        if columns > 2:
            flag = out_extra[..., :1] * out_visibility[..., None]
            out = tf.concat([out_xy, flag, out_extra[..., 1:]], axis=-1)
        else:
            out = tf.where(out_visibility[..., None] > 0, out_xy, -1.0)
        if dtype.is_integer:
            out = tf.round(out)
        return tf.cast(out, dtype)

    return xy, visibility, extra, decode


def encode(raw, height, width, target_settings, owner=None):
    """The targets of a batch as the pipeline carries them.

    Args:
        raw: A dict with some of `KINDS` as keys, in the user's format.
        height: The input images' height.
        width: The input images' width.
        target_settings: `settings`'s dict.
        owner: Named in error messages.

    Returns:
        ``(targets, decode)``: the internal dict (see the module) and
        ``decode(targets, out_height, out_width)``, which returns the
        user's structure and dtypes.

    Example:
    >>> import numpy as np
    >>> raw = {"keypoints": np.array([[[1.0, 2.0]]])}
    >>> targets, decode = encode(raw, 4, 4, settings())
    >>> sorted(targets), decode(targets, 4, 4)["keypoints"].numpy().tolist()
    (['keypoint_columns', 'keypoints', 'visibility'], [[[1.0, 2.0]]])
    """
    targets, decoders = {}, {}
    if MASKS in raw:
        targets["masks"], decoders[MASKS] = _encode_masks(
            raw[MASKS], height, width, owner
        )
    if BOXES in raw:
        box_format = target_settings["box_format"]
        xyxy, labels, decoders[BOXES] = _encode_boxes(
            raw[BOXES], height, width, box_format, owner
        )
        targets["boxes"], targets["box_labels"] = xyxy, labels
    if KEYPOINTS in raw:
        xy, visibility, extra, decoders[KEYPOINTS] = _encode_keypoints(
            raw[KEYPOINTS], owner
        )
        targets["keypoints"], targets["visibility"] = xy, visibility
        targets["keypoint_columns"] = extra

    def decode(out, out_height, out_width):
        result = {}
        if MASKS in decoders:
            result[MASKS] = decoders[MASKS](out["masks"])
        if BOXES in decoders:
            result[BOXES] = decoders[BOXES](
                out["boxes"], out["box_labels"], out_height, out_width
            )
        if KEYPOINTS in decoders:
            result[KEYPOINTS] = decoders[KEYPOINTS](
                out["keypoints"], out["visibility"], out["keypoint_columns"]
            )
        return result

    return targets, decode


def _inverse(matrices):
    """The inverse of affine ``(batch, 3, 3)`` matrices, as six rows.

    Written out (rather than `tf.linalg.inv`) so that XLA compiles it.
    """
    a, b, c = matrices[:, 0, 0], matrices[:, 0, 1], matrices[:, 0, 2]
    d, e, f = matrices[:, 1, 0], matrices[:, 1, 1], matrices[:, 1, 2]
    det = a * e - b * d
    ia, ib, id_, ie = e / det, -b / det, -d / det, a / det
    return ia, ib, -(ia * c + ib * f), id_, ie, -(id_ * c + ie * f)


def move_points(points, matrices):
    """Points in pixels moved as the images are by output-to-input matrices.

    Args:
        points: float32 ``(batch, n, 2)`` ``(x, y)`` in pixels (pixel
            centres at half-integers).
        matrices: ``(batch, 3, 3)`` maps from output pixel indices to input
            pixel indices (`keras_regkit.augment._core.resample.to_pixels`).

    Returns:
        float32 ``(batch, n, 2)``: where the points are in the output.

    Example:
    >>> import tensorflow as tf
    >>> flip = tf.constant([[[-1.0, 0, 3], [0, 1, 0], [0, 0, 1]]])
    >>> move_points(tf.constant([[[0.5, 1.5]]]), flip).numpy().tolist()
    [[[3.5, 1.5]]]
    """
    ia, ib, ic, id_, ie, if_ = (v[:, None] for v in _inverse(matrices))
    x = points[..., 0] - 0.5
    y = points[..., 1] - 0.5
    out_x = ia * x + ib * y + ic + 0.5
    out_y = id_ * x + ie * y + if_ + 0.5
    return tf.stack([out_x, out_y], axis=-1)


def move_boxes(boxes, matrices):
    """``xyxy`` boxes: the box of their four corners, moved.

    Example:
    >>> import tensorflow as tf
    >>> flip = tf.constant([[[-1.0, 0, 3], [0, 1, 0], [0, 0, 1]]])
    >>> move_boxes(tf.constant([[[0.0, 1.0, 1.0, 2.0]]]), flip).numpy()
    array([[[3., 1., 4., 2.]]], dtype=float32)
    """
    x1, y1, x2, y2 = tf.unstack(boxes, 4, axis=-1)
    corners = tf.stack(
        [
            tf.stack([x1, y1], -1),
            tf.stack([x2, y1], -1),
            tf.stack([x1, y2], -1),
            tf.stack([x2, y2], -1),
        ],
        axis=2,
    )
    batch = tf.shape(boxes)[0]
    moved = move_points(tf.reshape(corners, [batch, -1, 2]), matrices)
    moved = tf.reshape(moved, tf.shape(corners))
    low = tf.reduce_min(moved, axis=2)
    high = tf.reduce_max(moved, axis=2)
    return tf.concat([low, high], axis=-1)


def _inside(points, height, width):
    h, w = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    x, y = points[..., 0], points[..., 1]
    return tf.cast((x >= 0) & (x < w) & (y >= 0) & (y < h), tf.float32)


def transform(
    targets,
    matrices,
    output_size,
    settings_,
    target_settings,
    axis_aligned=False,
):
    """Moves every target through the images' matrices (one resampling).

    Args:
        targets: The internal dict (`encode`).
        matrices: ``(batch, 3, 3)`` output-to-input pixel matrices.
        output_size: ``(height, width)`` of the output.
        settings_: The pipeline's resampling settings (its fill mode and
            whether it gathers).
        target_settings: `settings`'s dict.
        axis_aligned: Whether the matrices have no rotation or shear.

    Returns:
        The moved targets, same keys.
    """
    out = dict(targets)
    height, width = output_size
    if "masks" in targets:
        out["masks"] = resample.resample(
            targets["masks"],
            matrices,
            output_size,
            interpolation="nearest",
            fill_mode=settings_["fill_mode"],
            fill_value=float(target_settings["mask_fill_value"]),
            gather=settings_["gather"],
            axis_aligned=axis_aligned,
        )
    if "boxes" in targets:
        moved = move_boxes(targets["boxes"], matrices)
        clipped = box_ops.clip(moved, height, width)
        out["boxes"] = clipped
        out["box_labels"] = box_ops.keep_visible(
            targets["box_labels"],
            box_ops.area(clipped),
            box_ops.area(moved),
            target_settings["min_visibility"],
        )
    if "keypoints" in targets:
        points = move_points(targets["keypoints"], matrices)
        out["keypoints"] = points
        out["visibility"] = targets["visibility"] * _inside(
            points, height, width
        )
    return out


def fill_masks(targets, region, value, gate=None):
    """Masks set to ``value`` inside ``region`` (erasing ops).

    Args:
        targets: The internal dict; returned unchanged without masks.
        region: float32 ``(batch, height, width)`` 0/1: where to fill.
        value: The mask value to write.
        gate: None, or float32 ``(batch,)`` 0/1: examples to fill.

    Returns:
        The targets with their masks filled.
    """
    if "masks" not in targets:
        return targets
    if gate is not None:
        region = region * gate[:, None, None]
    masks = targets["masks"]
    region = region[..., None]
    return {**targets, "masks": masks + region * (float(value) - masks)}


def repeat(targets, views):
    """Every target repeated ``views`` times along the batch axis."""
    if views == 1 or not targets:
        return targets
    return {
        key: tf.concat([value] * views, axis=0)
        for key, value in targets.items()
    }
