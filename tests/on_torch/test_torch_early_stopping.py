"""EarlyStopping on the torch backend, in a real fit.

The best weights are kept as an on-device `WeightSnapshot` (torch
parameters assigned in place); these tests check that a real `fit` ends
with the best epoch's weights, optimizer state included, and that the
``save_best_to`` file holds them too.
"""

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit.callbacks.weight_snapshot import WeightSnapshot

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="PyTorch backend only"
)


def _weights(variables):
    return [keras.ops.convert_to_numpy(v) for v in variables]


def _assert_equal(actual, expected):
    assert len(actual) == len(expected)
    for a, b in zip(actual, expected, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.compat("EarlyStopping", "PyTorch")
@pytest.mark.parametrize("include_optimizer", [False, True])
def test_fit_restores_the_best_epoch_and_writes_it(tmp_path, include_optimizer):
    # The kernel grows from 0 towards the training targets' 1; validation
    # targets are 0.5, so val_loss falls, then rises once it passes 0.5.
    x, _ = helpers.regression_data((3,), n=32)
    y = x @ np.ones((3, 1), "float32")
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(1, kernel_initializer="zeros")]
    )
    model.compile(keras.optimizers.SGD(0.01, momentum=0.5), "mse")
    path = tmp_path / "best.weights.h5"
    stopper = rk.callbacks.EarlyStopping(
        patience=2,
        restore_best_weights=True,
        include_optimizer=include_optimizer,
        save_best_to=path,
    )
    weights, optimizer_values = [], []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: (
            weights.append(_weights(model.weights)),
            optimizer_values.append(_weights(model.optimizer.variables)),
        )
    )
    history = model.fit(
        x,
        y,
        validation_data=(x, 0.5 * y),
        epochs=30,
        batch_size=8,
        verbose=0,
        callbacks=[record, stopper],
    )
    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))
    # Stopped early, `patience` epochs after a best that is not the first.
    assert 0 < best and stopper.stopped_epoch == best + 2 < 29
    assert stopper.best_epoch == best and len(val_loss) == best + 3
    assert isinstance(
        stopper.best_weights_store.memory_copy.snapshot, WeightSnapshot
    )
    _assert_equal(_weights(model.weights), weights[best])
    last = len(val_loss) - 1
    expected = optimizer_values[best if include_optimizer else last]
    _assert_equal(_weights(model.optimizer.variables), expected)
    np.testing.assert_allclose(
        model.evaluate(x, 0.5 * y, verbose=0), val_loss[best], rtol=1e-5
    )
    # The file holds the best epoch too.
    fresh = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    fresh.load_weights(path)
    _assert_equal(_weights(fresh.weights), weights[best])
    np.testing.assert_array_equal(
        fresh.predict(x, verbose=0), model.predict(x, verbose=0)
    )
