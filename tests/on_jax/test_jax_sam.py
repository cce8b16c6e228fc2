"""SAM on the JAX backend: the jitted step under data parallelism.

The generic suite (tests/training) checks the step's closed forms on JAX
too; here, `keras.distribution.DataParallel` over two host devices (in a
subprocess: XLA_FLAGS must be set before JAX starts) must take the
single-device step, since the perturbation's norm is over the global
gradient.
"""

import helpers
import keras
import pytest

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="JAX backend only"
)

_SCRIPT = """
import keras
import numpy as np
import keras_regkit as rk

rng = np.random.default_rng(0)
x = rng.normal(size=(16, 5)).astype("float32")
y = rng.normal(size=(16, 1)).astype("float32")


def run(adaptive):
    keras.utils.set_random_seed(7)
    inner = keras.Sequential([
        keras.Input((5,)),
        keras.layers.Dense(
            8, activation="tanh",
            kernel_regularizer=keras.regularizers.L2(0.01)),
        keras.layers.Dense(1),
    ])
    model = rk.training.SAM(inner, rho=0.5 if adaptive else 0.2,
                            adaptive=adaptive)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False,
                        verbose=0)
    return history.history["loss"], model.get_weights()


single = {a: run(a) for a in (False, True)}
keras.distribution.set_distribution(keras.distribution.DataParallel())
for adaptive in (False, True):
    loss, weights = run(adaptive)
    np.testing.assert_allclose(loss, single[adaptive][0], rtol=1e-5)
    for got, want in zip(weights, single[adaptive][1], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
print("OK")
"""


@pytest.mark.slow
def test_data_parallel_takes_the_single_device_step():
    helpers.run_on_two_jax_devices(_SCRIPT)
