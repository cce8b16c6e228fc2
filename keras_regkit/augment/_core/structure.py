"""What in a batch is an image, a label, a sample weight: the structure adapter.

A `Pipeline` accepts a batch in one of these structures and returns the
same structure:

* images alone;
* a tuple ``(images,)``, ``(images, labels)`` or ``(images, labels,
  sample_weights)`` (Keras's ``fit`` convention);
* a dict with an ``"images"`` key and optionally ``"labels"``,
  ``"sample_weights"`` and the targets ``"segmentation_masks"``,
  ``"bounding_boxes"`` and ``"keypoints"`` (Keras's preprocessing-layer
  convention, plus keypoints: `keras_regkit.augment._core.targets`).

The images are transformed, and the targets with them; labels are passed
through, except that label-mixing ops return soft labels; sample weights
are passed through (repeated when an op returns several views of the
batch). Any other dict key raises, naming the key: passing an unknown
entry through untouched could silently misalign it with the augmented
images.
"""

from __future__ import annotations

import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core.targets import KINDS as TARGET_KEYS

IMAGES_KEY = "images"
LABELS_KEY = "labels"
# Dict keys passed through unchanged (repeated with the views).
PASSTHROUGH_KEYS = ("sample_weights",)
KNOWN_KEYS = (IMAGES_KEY, LABELS_KEY, *PASSTHROUGH_KEYS, *TARGET_KEYS)


def repeat_batch(value, views):
    """``value`` concatenated ``views`` times along the batch axis.

    None and ``views == 1`` return ``value`` unchanged.
    """
    if views == 1 or value is None:
        return value
    return tf.concat([tf.convert_to_tensor(value)] * views, axis=0)


def targets_of(data):
    """The targets of a batch (or an element spec): a dict, maybe empty.

    Example:
    >>> sorted(targets_of({"images": 0, "keypoints": 1, "labels": 2}))
    ['keypoints']
    >>> targets_of((0, 1))
    {}
    """
    if not isinstance(data, dict):
        return {}
    return {key: data[key] for key in TARGET_KEYS if key in data}


def check_keys(data, owner=None, targets=True):
    """Raises ValueError for a dict key the pipeline cannot handle.

    Args:
        data: A batch or an element spec (only dicts are checked).
        owner: Named in the message.
        targets: Whether the data may carry targets (images of any size,
            cropped one by one, cannot yet).

    Example:
    >>> check_keys({"images": 0, "masks": 0})
    ... # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: Invalid value received for argument `data`. Expected a
    dict with keys 'images', 'labels', 'sample_weights',
    'segmentation_masks', 'bounding_boxes', 'keypoints' (the pipeline
    cannot transform 'masks'). Received: data=['images', 'masks']
    """
    if not isinstance(data, dict):
        return
    if IMAGES_KEY not in data:
        raise _validation.invalid(
            "data", "a dict with an 'images' key", sorted(data), owner=owner
        )
    unknown = [key for key in data if key not in KNOWN_KEYS]
    if unknown:
        allowed = ", ".join(repr(key) for key in KNOWN_KEYS)
        names = ", ".join(repr(key) for key in unknown)
        expected = (
            f"a dict with keys {allowed} (the pipeline cannot transform "
            f"{names})"
        )
        raise _validation.invalid("data", expected, sorted(data), owner=owner)
    carried = [key for key in data if key in TARGET_KEYS]
    if carried and not targets:
        allowed = [key for key in KNOWN_KEYS if key not in TARGET_KEYS]
        expected = (
            "a dict with keys "
            + ", ".join(repr(key) for key in allowed)
            + f" (images of any size cannot carry {carried[0]!r} yet)"
        )
        raise _validation.invalid("data", expected, sorted(data), owner=owner)


def unpack(data, views=1, owner=None):
    """Splits a batch into images, labels and a repacking function.

    Args:
        data: Images; a tuple ``(images,)``, ``(images, labels)`` or
            ``(images, labels, sample_weights)``; or a dict with an
            ``"images"`` key and optionally ``"labels"`` and
            ``"sample_weights"``.
        views: How many times the pipeline multiplies the batch: the
            other entries (sample weights) are repeated as many times
            along the batch axis.
        owner: Named in error messages.

    Returns:
        ``(images, labels, pack)`` where labels may be None and
        ``pack(images, labels, targets=None)`` rebuilds the structure
        (``targets``: the transformed targets of a dict, see
        `targets_of`).

    Example:
    >>> images, labels, pack = unpack({"images": 1, "labels": 2})
    >>> pack(images * 10, labels)
    {'images': 10, 'labels': 2}
    """
    if isinstance(data, dict):
        check_keys(data, owner)
        rest = {
            key: repeat_batch(value, views)
            for key, value in data.items()
            if key in PASSTHROUGH_KEYS
        }

        def pack_dict(images, labels, targets=None):
            out = {IMAGES_KEY: images, **rest}
            if labels is not None:
                out[LABELS_KEY] = labels
            out.update(targets or {})
            return out

        return data[IMAGES_KEY], data.get(LABELS_KEY), pack_dict
    if isinstance(data, (tuple, list)):
        if not 1 <= len(data) <= 3:
            raise _validation.invalid(
                "data",
                "images, (images, labels) or (images, labels, sample_weights)",
                f"a tuple of {len(data)} elements",
                owner=owner,
            )
        tail = tuple(repeat_batch(value, views) for value in data[2:])

        def pack_tuple(images, labels, targets=None):
            if len(data) == 1:
                return (images,)
            return (images, labels) + tail

        labels = data[1] if len(data) > 1 else None
        return data[0], labels, pack_tuple
    return data, None, lambda images, labels, targets=None: images
