"""Schedules on the torch backend: the training step reads every change.

Keras's torch trainer runs the step eagerly (``jit_compile="auto"``), so a
scheduled value reaches it only if layers and regularizers read their
variable at each call. Each loss below is an exact function of the
scheduled value the step read. (Scheduled regularizer strengths, per epoch
and per step, are checked on every backend by the regularizer and
ScheduleCallback suites.)
"""

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="PyTorch backend only"
)


RATE_LAYERS = {
    "DropPath": lambda rate: rk.layers.DropPath(rate, seed=1),
    "MCDropout": lambda rate: rk.layers.MCDropout(rate, seed=1),
    "DropConnectDense": lambda rate: rk.layers.DropConnectDense(
        1, rate, seed=1, kernel_initializer="ones", use_bias=False
    ),
}


@pytest.mark.compat("ScheduleCallback", "PyTorch")
@pytest.mark.parametrize("name", sorted(RATE_LAYERS))
def test_scheduled_rate_reaches_the_training_step(name):
    layer = RATE_LAYERS[name](rk.schedules.Piecewise([1], [0.0, 0.5]))
    counter = helpers.TraceCounter()
    model = keras.Sequential(
        [
            keras.Input((1,)),
            counter,
            layer,
            keras.layers.Dense(1, kernel_initializer="ones", use_bias=False),
        ]
    )
    model.compile(keras.optimizers.SGD(0.0), "mse")
    x, y = np.ones((32, 1), "float32"), np.ones((32, 1), "float32")
    history, seen = helpers.fit_with_schedules(
        model, x, y, counter, watch=layer, epochs=2, batch_size=8
    )
    assert [rate for _, rate in seen] == [0.0, 0.5]
    helpers.assert_not_retraced([traces for traces, _ in seen])
    # Input 1, target 1: at rate 0 the output is 1 (loss 0); at rate 0.5
    # every unit (example, weight) is dropped to 0 or doubled to 2, a
    # squared error of exactly 1 either way.
    np.testing.assert_allclose(history["loss"], [0.0, 1.0], rtol=1e-6)
