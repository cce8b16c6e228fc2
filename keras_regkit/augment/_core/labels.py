"""Labels of the ops that mix examples (MixUp, CutMix, Mosaic).

Sparse integer labels ``(batch,)`` become one-hot given ``num_classes``;
one-hot or soft labels are ``(batch, num_classes)`` floats in [0, 1].
Their shapes are checked when a pipeline meets the data (`check_labels`),
their values on every batch (`check_label_values`): a class id out of
``[0, num_classes)`` would become an all-zero row, float class ids would
be averaged as numbers.
"""

from __future__ import annotations

import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import checks


def check_labels(owner, labels_spec, num_classes):
    """Raises ValueError for labels a mixing op cannot mix.

    Sparse integer labels ``(batch,)`` need ``num_classes``; dense ones
    are ``(batch, num_classes)``. None (no labels) passes.
    """
    if labels_spec is None:
        return
    dtype = tf.as_dtype(labels_spec.dtype)
    shape = tuple(labels_spec.shape)
    if dtype.is_integer:
        if num_classes is None:
            raise _validation.invalid(
                "num_classes",
                "the number of classes, for sparse integer labels",
                None,
                owner=owner,
            )
        if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1):
            raise _validation.invalid(
                "labels", "sparse labels shaped (batch,)", shape, owner=owner
            )
    elif len(shape) != 2 or (
        num_classes is not None
        and shape[1] is not None
        and shape[1] != num_classes
    ):
        raise _validation.invalid(
            "labels",
            "one-hot labels shaped (batch, num_classes)",
            shape,
            owner=owner,
        )


def check_label_values(owner, labels, num_classes):
    """The labels, values a mixing op would turn into garbage refused.

    Sparse integer labels must be class ids in ``[0, num_classes)`` (ids
    ``1..K`` or -1 would become all-zero rows); float labels must be
    one-hot or soft, in [0, 1] (float class ids ``(batch, 1)`` would be
    averaged as numbers; a binary 0/1 target is fine). Checked on
    every batch (`checks.check_at_run_time`: eagerly a ValueError, in a
    graph a `tf.debugging` assertion with the same message).

    Example:
    >>> check_label_values("MixUp", tf.constant([1, 2, 3]), 3)
    ... # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: MixUp: Invalid value received for argument `labels`.
    Expected sparse labels: class ids in [0, 3) for num_classes=3 (ids
    1..K: subtract 1). Received: labels=ids [3] outside [0, 3)
    """
    labels = tf.convert_to_tensor(labels)
    if labels.dtype.is_integer:
        ids = tf.reshape(labels, [-1])
        outside = (ids < 0) | (ids >= num_classes)
        expected = (
            f"sparse labels: class ids in [0, {num_classes}) for "
            f"num_classes={num_classes} (ids 1..K: subtract 1)"
        )
        return checks.check_at_run_time(
            labels,
            ~tf.reduce_any(outside),
            "labels",
            expected,
            f"ids {{}} outside [0, {num_classes})",
            [tf.boolean_mask(ids, outside)],
            owner=owner,
        )
    values = tf.cast(labels, tf.float32)
    smallest, largest = tf.reduce_min(values), tf.reduce_max(values)
    expected = (
        "one-hot or soft labels in [0, 1] (float class ids shaped (batch, "
        "1): cast them to integers and give num_classes)"
    )
    labels = checks.check_at_run_time(
        labels,
        (smallest >= 0.0) & (largest <= 1.0),
        "labels",
        expected,
        "float values in [{}, {}]",
        [smallest, largest],
        owner=owner,
    )
    return labels


def soft_labels(labels, num_classes, label_smoothing=0.0):
    """Float32 one-hot (smoothed) labels from sparse or dense labels.

    Example:
    >>> soft_labels([2, 0], 3, 0.3).numpy()
    array([[0.1, 0.1, 0.8],
           [0.8, 0.1, 0.1]], dtype=float32)
    """
    if labels is None:
        return None
    labels = tf.convert_to_tensor(labels)
    if labels.dtype.is_integer:
        labels = tf.one_hot(tf.reshape(labels, [-1]), num_classes)
    labels = tf.cast(labels, tf.float32)
    if label_smoothing > 0:
        classes = tf.cast(tf.shape(labels)[-1], tf.float32)
        labels = labels * (1.0 - label_smoothing) + label_smoothing / classes
    return labels
