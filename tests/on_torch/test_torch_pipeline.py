"""An augmentation pipeline (tf.data) feeding a torch-backend model's fit."""

import helpers
import keras
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="PyTorch backend only"
)


class _BatchProbe(keras.layers.Layer):
    """Identity layer keeping the batches the (eager) training step gets."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.types = []
        self.batches = []

    def call(self, x, training=False):
        if training:
            self.types.append(type(x))
            self.batches.append(keras.ops.convert_to_numpy(x))
        return x


@pytest.mark.compat("augment.Pipeline", "PyTorch")
def test_pipeline_feeds_torch_fit():
    import torch

    probe = _BatchProbe()
    helpers.fit_on_pipeline(epochs=2, probe=probe)
    # Four batches of 8 per epoch, handed to the step as torch tensors.
    assert len(probe.batches) == 8
    assert all(issubclass(t, torch.Tensor) for t in probe.types)
    for batch in probe.batches:
        assert batch.shape == (8, 12, 10, 1) and batch.dtype == np.float32
        # The pipeline's output (float in [0, 1]), not the uint8 source.
        assert 0.0 <= batch.min() and batch.max() <= 1.0
    # The same images in the same order (shuffle=False), augmented afresh
    # in the second epoch.
    for first, second in zip(probe.batches[:4], probe.batches[4:], strict=True):
        assert not np.array_equal(first, second)
