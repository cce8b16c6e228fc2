"""Encoded images or the files that hold them: told apart, read.

A scalar string in a dataset of images is either the encoded image
(JPEG, PNG, GIF, BMP, WebP bytes) or a file's path (`is_encoded` tells
them apart by their first bytes; `read_contents` reads a path); a dict
may name paths with a ``"paths"`` key (`paths_as_images`).
"""

from __future__ import annotations

import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import structure

# The dict key of file paths (read into "images").
PATHS_KEY = "paths"
# How encoded images begin (what `tf.io.decode_image` reads, and WebP).
_SIGNATURES = (
    (0, b"\xff\xd8\xff"),  # JPEG
    (0, b"\x89PNG\r\n\x1a\n"),
    (0, b"GIF87a"),
    (0, b"GIF89a"),
    (8, b"WEBP"),  # After "RIFF" and the size.
)


def is_encoded(source):
    """Whether a scalar string is an encoded image (else a file path).

    Encoded images begin with their format's signature (JPEG, PNG, GIF,
    WebP) or hold a NUL byte in their first 16 (BMP, and the headers of
    the others); a path never holds one.

    Example:
    >>> import numpy as np, tensorflow as tf
    >>> bool(is_encoded(tf.io.encode_png(np.zeros((2, 2, 3), "uint8"))))
    True
    >>> bool(is_encoded(tf.constant("photos/cat.jpg")))
    False
    """
    head = tf.strings.substr(source, 0, 16) + b"_" * 16
    first = tf.io.decode_raw(tf.strings.substr(head, 0, 16), tf.uint8)
    found = tf.reduce_any(tf.equal(first, 0))
    for position, signature in _SIGNATURES:
        piece = tf.strings.substr(head, position, len(signature))
        found = found | tf.equal(piece, signature)
    return found


def read_contents(source, path=None):
    """The encoded bytes of ``source``: itself, or the file it names.

    Args:
        source: A scalar string: encoded image bytes or a file path.
        path: True when ``source`` is a path, False when it is bytes,
            None to tell them apart (`is_encoded`).

    Returns:
        A scalar ``tf.string``: the encoded image.
    """
    if path is None:
        return tf.cond(
            is_encoded(source), lambda: source, lambda: tf.io.read_file(source)
        )
    return tf.io.read_file(source) if path else source


def paths_as_images(dataset, owner=None):
    """A dataset of dicts with a ``"paths"`` key, as ``"images"`` to read.

    Returns:
        ``(dataset, paths)``: the dataset with ``"paths"`` renamed
        ``"images"`` and True, or the dataset unchanged and False.

    Example:
    >>> import tensorflow as tf
    >>> ds = tf.data.Dataset.from_tensor_slices({"paths": ["a.jpg"]})
    >>> ds, paths = paths_as_images(ds)
    >>> list(ds.element_spec), paths
    (['images'], True)
    """
    spec = getattr(dataset, "element_spec", None)  # Checked elsewhere.
    if not isinstance(spec, dict) or PATHS_KEY not in spec:
        return dataset, False
    expected = (
        f"a dict with {structure.IMAGES_KEY!r} or {PATHS_KEY!r} (file "
        "paths, read in the pipeline), not both"
    )
    if structure.IMAGES_KEY in spec:
        raise _validation.invalid("data", expected, sorted(spec), owner=owner)
    paths = spec[PATHS_KEY]
    if (
        not isinstance(paths, tf.TensorSpec)
        or paths.dtype != tf.string
        or paths.shape.rank != 0
    ):
        raise _validation.invalid(
            PATHS_KEY,
            "one file path per example (a scalar string)",
            paths,
            owner=owner,
        )

    def rename(data):
        data = dict(data)
        data[structure.IMAGES_KEY] = data.pop(PATHS_KEY)
        return data

    return dataset.map(rename), True
