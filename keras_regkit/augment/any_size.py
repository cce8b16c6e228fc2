"""A `Pipeline` over images of any size, as functions.

`augment_unbatched` maps a pipeline over a dataset of single images of any
size, encoded images or file paths (what ``pipeline(dataset,
batch_size=n)`` does); `augment_ragged` augments one ragged batch. Both
crop each image first (`keras_regkit.augment.inputs`), then run the
other ops on batches.
"""

from __future__ import annotations

import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment.pipeline import Pipeline


def _check_pipeline(pipeline, owner):
    expected = "a keras_regkit.augment.Pipeline"
    _validation.check_type(
        "pipeline", pipeline, Pipeline, expected, owner=owner
    )


def augment_unbatched(
    pipeline,
    dataset,
    batch_size=None,
    drop_remainder=False,
    on_error="raise",
    prefetch=True,
):
    """Applies a pipeline to a dataset of single images of any size.

    Each example gets its own crop window from the pipeline's first op, a
    `RandomResizedCrop`; only that window is read (for JPEG bytes, only
    that window is decoded) and resized to the op's output size (as
    torchvision resizes: antialiased when shrinking), and the
    `RandomFlip` ops right after it flip it. The other ops then run
    batched, as in `Pipeline`.

    Args:
        pipeline: A `Pipeline` whose first op is a `RandomResizedCrop`.
        dataset: An unbatched `tf.data.Dataset` in a structure the
            pipeline takes, whose images are ``(height, width, channels)``
            (uint8, or float in the pipeline's ``value_range``, any size)
            or scalar strings (encoded images, decoded as RGB, or file
            paths, read in the pipeline); or dicts with a ``"paths"`` key
            in place of ``"images"``.
        batch_size: The batch size of the returned dataset (the fast way);
            None returns single examples (not with mixing ops).
        drop_remainder: Whether to drop the last, smaller batch (with
            ``batch_size``).
        on_error: ``"raise"`` or ``"skip"``: what an example that cannot
            be read or decoded does (as in `Pipeline`'s call).
        prefetch: Whether the result ends with
            ``prefetch(tf.data.AUTOTUNE)``.

    Returns:
        The augmented dataset: batched by ``batch_size``, or of single
        examples. Images float32 in [0, 1].

    Example:
    >>> import numpy as np
    >>> import tensorflow as tf
    >>> from keras_regkit import augment as rka
    >>> pipeline = rka.Pipeline(
    ...     [rka.RandomResizedCrop(16, 16), rka.RandomFlip()], seed=0
    ... )
    >>> sizes = [(20, 30), (40, 24), (16, 16)]
    >>> ds = tf.data.Dataset.from_generator(
    ...     lambda: (np.zeros(s + (3,), "uint8") for s in sizes),
    ...     output_signature=tf.TensorSpec([None, None, 3], tf.uint8),
    ... )
    >>> rka.augment_unbatched(pipeline, ds, batch_size=2).element_spec
    TensorSpec(shape=(None, 16, 16, 3), dtype=tf.float32, name=None)
    """
    _check_pipeline(pipeline, "augment_unbatched")
    prefetch = _validation.check_bool("prefetch", prefetch, owner=pipeline)
    out = pipeline._augment_unbatched(
        dataset, batch_size, drop_remainder, on_error
    )
    return out.prefetch(tf.data.AUTOTUNE) if prefetch else out


def augment_ragged(pipeline, data, seed):
    """Augments one ragged batch: images of different sizes, cropped first.

    Each image gets its own window from the pipeline's first op, a
    `RandomResizedCrop`; the crops, of one size, go through the other ops.

    Args:
        pipeline: A `Pipeline` whose first op is a `RandomResizedCrop`.
        data: A batch in a structure the pipeline takes, whose images are
            a ``tf.RaggedTensor`` ``(batch, None, None, channels)``.
        seed: An int, a pair of ints or a shape-(2,) integer tensor.

    Returns:
        The augmented batch, same structure; images float32 ``(batch,
        height, width, channels)`` in [0, 1].

    Example:
    >>> import numpy as np
    >>> import tensorflow as tf
    >>> from keras_regkit import augment as rka
    >>> images = tf.ragged.stack(
    ...     [np.zeros((20, 30, 3), "uint8"), np.zeros((12, 9, 3), "uint8")]
    ... )
    >>> pipeline = rka.Pipeline([rka.RandomResizedCrop(8, 8)])
    >>> rka.augment_ragged(pipeline, images, seed=1).shape
    TensorShape([2, 8, 8, 3])
    """
    _check_pipeline(pipeline, "augment_ragged")
    return pipeline._augment_ragged(data, seed)
