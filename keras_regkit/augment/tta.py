"""Test-time augmentation: the mean prediction over augmented views."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment import _base
from keras_regkit.augment.pipeline import Pipeline


def tta_predict(model, images, pipeline, num_views=8, *, seed=0, batch_size=32):
    """Test-time augmentation: the mean prediction over augmented views.

    The original images (converted as the pipeline converts them) count as
    one view; ``num_views - 1`` augmented views are added, view ``v`` of
    batch ``b`` seeded by ``(seed, v, b)``.

    Args:
        model: A Keras model (anything with ``predict``).
        images: A numpy array or tensor ``(n, height, width, channels)``.
        pipeline: A `Pipeline` without label-mixing ops.
        num_views: Total number of views, an integer >= 1.
        seed: An integer; the same seed gives the same views.
        batch_size: Images per prediction batch.

    Returns:
        A numpy array, the mean of the model's predictions over the views.

    Example:
    >>> import keras, numpy as np
    >>> from keras_regkit import augment as rka
    >>> model = keras.Sequential([keras.Input((8, 8, 3)),
    ...     keras.layers.GlobalAveragePooling2D()])
    >>> x = np.full((5, 8, 8, 3), 255, "uint8")
    >>> p = rka.tta_predict(model, x, rka.Pipeline([rka.RandomFlip()]), 4)
    >>> p.shape, float(p.max())
    ((5, 3), 1.0)
    """
    _validation.check_type(
        "pipeline", pipeline, Pipeline, "a keras_regkit.augment.Pipeline"
    )
    num_views = _validation.check_int("num_views", num_views, low=1)
    seed = _validation.check_int("seed", seed)
    batch_size = _validation.check_int("batch_size", batch_size, low=1)
    if pipeline.has_mixing:
        raise ValueError(
            _validation.error_message(
                "pipeline", "a pipeline without label-mixing ops", pipeline
            )
        )
    data = tf.data.Dataset.from_tensor_slices(images).batch(batch_size)
    total = model.predict(
        data.map(pipeline.convert), verbose=0, batch_size=None
    ).astype(np.float64)
    for view in range(1, num_views):

        def augment(index, batch, view=view):
            key = tf.random.experimental.stateless_fold_in(
                _base.as_seed((seed, view)), index
            )
            return pipeline.augment(batch, key)

        views = data.enumerate().map(augment)
        total += model.predict(views, verbose=0)
    return (total / num_views).astype(np.float32)
