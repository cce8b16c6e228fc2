"""Every regularizer under mixed precision and inside an XLA-compiled step."""

import helpers
import keras
import numpy as np
import pytest

from keras_regkit import regularizers
from keras_regkit import schedules

REGULARIZERS = [
    lambda: regularizers.L1(1e-3),
    lambda: regularizers.L2(lam=0.5, num_examples=32),
    lambda: regularizers.L1L2(1e-3, schedules.Linear(0.0, 1e-3, duration=1)),
    lambda: regularizers.ElasticNet(1e-3, 0.5),
    lambda: regularizers.GroupLasso(1e-3),
    lambda: regularizers.Orthogonal(1e-3),
]


@pytest.fixture
def mixed_float16():
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.compat("L1/L2/L1L2", "mixed precision")
@pytest.mark.compat("ElasticNet", "mixed precision")
@pytest.mark.compat("GroupLasso", "mixed precision")
@pytest.mark.compat("Orthogonal", "mixed precision")
@pytest.mark.parametrize("make", REGULARIZERS)
def test_mixed_float16(make, mixed_float16):
    model = helpers.conv_model(make())
    assert model.layers[0].kernel.dtype == "float32"
    assert model.layers[0].compute_dtype == "float16"
    losses = [float(keras.ops.convert_to_numpy(v)) for v in model.losses]
    assert all(np.isfinite(losses)) and len(losses) == 2
    x, y = helpers.regression_data((7, 5, 2))
    model.compile(keras.optimizers.SGD(0.01), "mse")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert model.predict(x, verbose=0).dtype == np.float16


@pytest.mark.compat("L1/L2/L1L2", "XLA")
@pytest.mark.compat("ElasticNet", "XLA")
@pytest.mark.compat("GroupLasso", "XLA")
@pytest.mark.compat("Orthogonal", "XLA")
@pytest.mark.parametrize("make", REGULARIZERS)
def test_jit_compile_matches_eager_penalty(make):
    x, y = helpers.regression_data((6,))
    losses = []
    for jit in (False, True):
        keras.utils.set_random_seed(0)
        model = helpers.dense_model(make())
        model.compile(keras.optimizers.SGD(0.0), "mse", jit_compile=jit)
        losses.append(model.evaluate(x, y, verbose=0))
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
