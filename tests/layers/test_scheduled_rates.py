"""Scheduled rates: tracked as weights, saved, restored, reassigned."""

import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit import schedules

LAYERS = [
    lambda rate: rk.layers.DropPath(rate, seed=1),
    lambda rate: rk.layers.MCDropout(rate, seed=1),
    lambda rate: rk.layers.DropBlock1D(rate, block_size=2, seed=1),
]


@pytest.mark.parametrize("make", LAYERS)
def test_scheduled_rate_is_a_saved_non_trainable_weight(make, tmp_path):
    layer = make(schedules.Linear(0.0, 0.5, duration=2))
    model = keras.Sequential(
        [keras.Input((6, 4)), layer, keras.layers.Dense(1)]
    )
    model.compile("sgd", "mse")
    assert layer._rate.variable in layer.non_trainable_weights
    assert not any(w is layer._rate.variable for w in layer.trainable_weights)
    x = np.ones((8, 6, 4), "float32")
    y = np.zeros((8, 6, 1), "float32")
    model.fit(
        x, y, epochs=3, verbose=0, callbacks=[rk.callbacks.ScheduleCallback()]
    )
    assert layer.rate == 0.5
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    restored = loaded.layers[0]._rate.variable
    assert float(np.asarray(restored)) == 0.5  # the saved value, not index 0


def test_drop_connect_keeps_keras_weight_list(tmp_path):
    layer = rk.layers.DropConnectDense(
        4, rate=schedules.Linear(0.0, 0.5, duration=2), seed=1
    )
    model = keras.Sequential([keras.Input((3,)), layer])
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    model.save(tmp_path / "m.keras")
    keras.models.load_model(tmp_path / "m.keras")


def test_constant_rate_adds_no_weight():
    layer = rk.layers.DropPath(0.2)
    layer.build((None, 3))
    assert layer.weights == []


def test_update_reassigns_after_weights_were_loaded():
    layer = rk.layers.DropPath(schedules.Linear(0.0, 0.4, duration=4))
    layer._rate.variable.assign(0.3)  # as loading saved weights would
    assert layer._rate.update(0) == 0.0
    assert float(np.asarray(layer._rate.variable)) == 0.0
