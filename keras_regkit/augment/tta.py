"""Test-time augmentation: the mean prediction over augmented views."""

from __future__ import annotations

import tensorflow as tf

from keras_regkit import _monte_carlo
from keras_regkit import _validation
from keras_regkit.augment._core import sampling
from keras_regkit.augment.pipeline import Pipeline


def tta_predict(
    model,
    images,
    pipeline,
    samples=None,
    *,
    seed=0,
    batch_size=32,
):
    """Test-time augmentation: the mean prediction over augmented views.

    The original images (converted as the pipeline converts them) count as
    one view; ``samples - 1`` augmented views are added, view ``v`` of
    batch ``b`` seeded by ``(seed, v, b)``. Each batch of ``batch_size``
    images runs its views one after the other through the model's compiled
    ``predict_on_batch``: the same chunked mean over random passes as
    `keras_regkit.layers.mc_predict`.

    Args:
        model: A Keras model (anything with ``predict_on_batch`` or
            ``predict``).
        images: A numpy array or tensor ``(n, height, width, channels)``
            of integers or floats, with at least one image.
        pipeline: A `Pipeline` without label-mixing ops.
        samples: Total number of views, an integer >= 1; None: 8. (The
            name `mc_predict` uses for its passes.)
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
    owner = "tta_predict"
    if not (
        callable(getattr(model, "predict_on_batch", None))
        or callable(getattr(model, "predict", None))
    ):
        raise _validation.invalid(
            "model",
            "a Keras model (with `predict_on_batch` or `predict`)",
            model,
            owner=owner,
            error=TypeError,
        )
    images = _monte_carlo.check_batch("images", images, owner=owner, rank=4)
    _validation.check_type(
        "pipeline",
        pipeline,
        Pipeline,
        "a keras_regkit.augment.Pipeline",
        owner=owner,
    )
    if samples is None:
        samples = 8
    samples = _validation.check_int("samples", samples, low=1, owner=owner)
    seed = _validation.check_int("seed", seed, owner=owner)
    batch_size = _validation.check_int(
        "batch_size", batch_size, low=1, owner=owner
    )
    if pipeline.has_mixing:
        raise _validation.invalid(
            "pipeline",
            "a pipeline without label-mixing ops",
            pipeline,
            owner=owner,
        )
    convert = tf.function(pipeline.convert, reduce_retracing=True)
    augment = tf.function(pipeline.augment, reduce_retracing=True)
    run = getattr(model, "predict_on_batch", None) or (
        lambda batch: model.predict(batch, verbose=0)
    )

    def predict(rows, view, batch_index):
        if view == 0:
            return run(convert(rows))
        # The batch index as int64, as `Dataset.enumerate` gave it before.
        index = tf.constant(batch_index, tf.int64)
        key = tf.random.experimental.stateless_fold_in(
            sampling.as_seed((seed, view)), index
        )
        return run(augment(rows, key))

    mean, _ = _monte_carlo.mean_over_passes(
        _monte_carlo.naming_errors_of_first_call(
            predict, "images", images, owner=owner
        ),
        images,
        samples,
        batch_size=batch_size,
        sampling=_monte_carlo.SEPARATE,
    )
    return mean
