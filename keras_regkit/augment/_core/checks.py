"""Checks of data at run time, and of the arguments ops share.

`check_at_run_time` is how the engine refuses bad values (a NaN box, a
label out of range, a float image outside its ``value_range``): eagerly a
ValueError, in a graph a `tf.debugging.Assert` with the same message.
"""

from __future__ import annotations

import tensorflow as tf

from keras_regkit import _validation

# How far outside its `value_range` a float image may go, as a fraction of
# the range: resizing with bicubic or Lanczos kernels overshoots a little;
# a forgotten ``/ 255`` overshoots by 25400%.
RANGE_TOLERANCE = 0.1


def check_value_range(value_range, owner=None):
    """A pipeline's ``value_range``: a pair ``[low, high]``, low < high."""
    pair = _validation.check_float_range(
        "value_range", value_range, symmetric=False, owner=owner
    )
    if pair[0] >= pair[1]:
        expected = "a pair (low, high) of floats with low < high"
        raise _validation.invalid(
            "value_range", expected, value_range, owner=owner
        )
    return list(pair)


def to_float(inputs, value_range=None, owner=None):
    """The pipeline's working dtype: uint8 scaled to [0, 1], else float32.

    With a ``value_range`` ``(low, high)``, float images are mapped from
    it to [0, 1]; a value more than `RANGE_TOLERANCE` of the range outside
    it (a forgotten ``/ 255``) raises (`check_at_run_time`, naming
    ``owner``). Without, float inputs are only cast.
    """
    if inputs.dtype == tf.uint8:
        return tf.cast(inputs, tf.float32) * (1.0 / 255.0)
    inputs = tf.cast(inputs, tf.float32)
    if value_range is None:
        return inputs
    low, high = value_range
    margin = RANGE_TOLERANCE * (high - low)
    smallest, largest = tf.reduce_min(inputs), tf.reduce_max(inputs)
    expected = (
        f"float images within value_range=({low:g}, {high:g}) (images in "
        "[0, 255]: divide them by 255, pass them as uint8 or give the "
        "Pipeline value_range=(0, 255))"
    )
    # No values in the message: it compiles in an XLA model (dropped).
    inputs = check_at_run_time(
        inputs,
        (smallest >= low - margin) & (largest <= high + margin),
        "images",
        expected,
        f"a batch with values outside [{low - margin:g}, {high + margin:g}]"
        " (or NaN)",
        owner=owner,
    )
    if (low, high) != (0.0, 1.0):
        inputs = (inputs - low) * (1.0 / (high - low))
    return inputs


def check_at_run_time(
    value, condition, name, expected, received, inputs=(), owner=None
):
    """``value``, once ``condition`` holds: the check of data, not shapes.

    How the engine refuses bad values (a NaN box, a label out of range):
    eagerly a ValueError, in a graph (`tf.data`'s map, a `tf.function`) a
    `tf.debugging.Assert` with the same message, on which ``value`` then
    depends. XLA drops assertions, and compiles one only without
    ``inputs`` (`tf.strings.format` has no XLA kernel).

    Args:
        value: A tensor or a nest of tensors, returned.
        condition: A scalar boolean tensor, or a Python bool (known when
            tracing: False raises at once, ``inputs`` Python values).
        name: The argument's name (`_validation.error_message`).
        expected: What is allowed, in words (no braces).
        received: What came, in words, with ``{}`` where each of
            ``inputs`` is written (`tf.strings.format`).
        inputs: Tensors to write into ``received``.
        owner: Named in the message.

    Returns:
        ``value`` (in a graph, its identity after the assertion).

    Example:
    >>> x = tf.constant([1.0, -2.0])
    >>> check_at_run_time(x, tf.reduce_all(x >= 0), "x", "values >= 0",
    ...                   "min {}", [tf.reduce_min(x)])
    Traceback (most recent call last):
    ...
    ValueError: Invalid value received for argument `x`. Expected values \
>= 0. Received: x=min -2
    """
    eager = isinstance(condition, bool) or tf.executing_eagerly()
    if eager and bool(condition):
        return value
    # The one template, ``received`` in place of the value (a final "0").
    template = _validation.error_message(name, expected, 0, owner)[:-1]
    if isinstance(condition, bool):
        raise ValueError(template + received.format(*inputs))
    message = template + received
    if inputs:
        message = tf.strings.format(message, list(inputs), summarize=6)
    if eager:
        raise ValueError(message if not inputs else message.numpy().decode())
    assertion = tf.debugging.Assert(condition, [message])
    with tf.control_dependencies([assertion]):
        return tf.nest.map_structure(tf.identity, value)


def check_positive_pair(name, value, *, high=None, owner=None):
    """Checks a ``(low, high)`` pair of floats with ``0 < low <= high``.

    For the area and aspect-ratio ranges of crops and erased boxes; a
    single number is refused (it has no obvious meaning as a range).

    Example:
    >>> check_positive_pair("scale", 0.5, owner="RandomResizedCrop")
    Traceback (most recent call last):
    ...
    TypeError: RandomResizedCrop: Invalid value received for argument \
`scale`. Expected a pair (low, high) of values > 0. Received: scale=0.5
    """
    expected = "a pair (low, high) of values > 0"
    if high is not None:
        expected += f" and <= {high:g}"
    if not isinstance(value, (list, tuple)):
        raise _validation.invalid(
            name, expected, value, owner=owner, error=TypeError
        )
    low, top = _validation.check_float_range(
        name, value, high=high, owner=owner
    )
    if low <= 0:
        raise _validation.invalid(name, expected, value, owner=owner)
    return low, top


def refuse_target(op, target, reason):
    """The ValueError for a target ``op`` cannot keep with its images.

    Example:
    >>> print(refuse_target("MixUp", "keypoints", "it blends images"))
    ... # doctest: +NORMALIZE_WHITESPACE
    MixUp: Invalid value received for argument `keypoints`. Expected data
    without 'keypoints' for MixUp (it blends images). Received:
    keypoints='present'
    """
    name = _validation.owner_name(op)
    expected = f"data without {target!r} for {name} ({reason})"
    return _validation.invalid(target, expected, "present", owner=op)


def config_value(value):
    """A config value as plain Python: tuples become lists."""
    if isinstance(value, (tuple, list)):
        return [config_value(v) for v in value]
    return value
