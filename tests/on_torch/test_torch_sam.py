"""SAM on the PyTorch backend: gradients by autograd, nothing left behind.

The generic suite (tests/training) checks the step's closed forms on
torch too. Keras's own torch step leaves each step's gradient in the
parameters' ``.grad``; SAM's step takes both gradients with
``torch.autograd.grad`` and applies them itself, so nothing accumulates
there (two passes would otherwise add up).
"""

import keras
import numpy as np
import pytest

import keras_regkit as rk

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="PyTorch backend only"
)


def test_step_leaves_no_gradient_in_the_parameters():
    inner = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)]
    )
    model = rk.training.SAM(inner, rho=0.1, micro_batches=2)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    before = [w.copy() for w in model.get_weights()]
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    model.fit(x, x[:, :1], batch_size=8, epochs=1, verbose=0)
    assert all(v.value.grad is None for v in model.trainable_variables)
    assert all(
        not np.array_equal(a, b)
        for a, b in zip(model.get_weights(), before, strict=True)
    )
