"""``pipeline(ds)`` ends with ``prefetch(AUTOTUNE)`` (issue 21, point 3).

The prefetch lets the augmentation of the next batches overlap the
training step, as a user of ``fit`` needs; ``prefetch=False`` leaves it to
the caller (to add more stages after the pipeline).
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka


def is_prefetched(dataset):
    return type(dataset).__name__ == "_PrefetchDataset"


def datasets():
    images = np.zeros((6, 10, 12, 3), np.uint8)
    batched = tf.data.Dataset.from_tensor_slices(images).batch(3)
    unbatched = tf.data.Dataset.from_tensor_slices(images)
    return batched, unbatched


def test_pipeline_ends_with_prefetch_unless_asked_not_to():
    p = rka.Pipeline([rka.RandomResizedCrop(8, 8), rka.RandomFlip()], seed=1)
    batched, unbatched = datasets()
    for ds, kwargs in [(batched, {}), (unbatched, {"batch_size": 3})]:
        out = p(ds, **kwargs)
        assert is_prefetched(out)
        plain = p(ds, prefetch=False, **kwargs)
        assert not is_prefetched(plain)
        # The same batches either way.
        for a, b in zip(out, plain, strict=True):
            np.testing.assert_array_equal(a, b)


def test_prefetch_is_checked():
    batched, _ = datasets()
    p = rka.Pipeline([rka.RandomFlip()])
    with pytest.raises(TypeError, match="`prefetch`"):
        p(batched, prefetch=2)
