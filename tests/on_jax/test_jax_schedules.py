"""Scheduled strengths on the JAX backend: part of the model's state.

A jitted JAX step bakes in any variable outside the model's state, so
`ScheduleCallback` attaches a regularizer's scheduled strength to it. That
the step then sees every change, per epoch and per step, is checked on
every backend by the regularizer and ScheduleCallback suites.
"""

import helpers
import keras
import pytest

import keras_regkit as rk

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="JAX backend only"
)


def test_strength_is_state_but_not_a_weight(tmp_path):
    reg = rk.regularizers.L2(rk.schedules.Linear(0.0, 1.0, duration=2))
    model = helpers.dense_model(reg)
    weights = len(model.weights)
    added = rk._scheduled_value.expose_as_state(model)
    assert added == [reg._l2.variable]
    assert rk._scheduled_value.expose_as_state(model) == []
    assert any(v is reg._l2.variable for v in model.non_trainable_variables)
    assert len(model.weights) == weights
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert len(loaded.weights) == weights
