"""Schedules on the JAX backend: the jitted step must see every change.

A jitted JAX step bakes in any variable outside the model's state; these
tests fail if a scheduled regularizer strength or a per-step value is
silently frozen.
"""

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="JAX backend only"
)


@pytest.mark.compat("ScheduleCallback", "JAX")
def test_scheduled_regularizer_strength_changes_between_epochs():
    reg = rk.regularizers.L2(rk.schedules.Linear(0.0, 2.0, duration=2))
    history, _ = helpers.scheduled_penalty_run(reg, epochs=3)
    # Kernel of three ones: penalty = l2 * 3.
    np.testing.assert_allclose(history["loss"], [0.0, 3.0, 6.0], rtol=1e-6)


def test_per_step_schedule_reaches_every_step():
    ramp = rk.schedules.Linear(0.0, 3.0, duration=3, unit="step")
    history, _ = helpers.scheduled_penalty_run(rk.regularizers.L2(ramp), 2)
    # Two batches per epoch, l2 = 0, 1, 2, 3 (then 3): epoch means of 3*l2.
    np.testing.assert_allclose(history["loss"], [1.5, 7.5], rtol=1e-6)


def test_strength_is_state_but_not_a_weight(tmp_path):
    reg = rk.regularizers.L2(rk.schedules.Linear(0.0, 1.0, duration=2))
    model = helpers.dense_model(reg)
    weights = len(model.weights)
    added = rk._schedules.expose_as_state(model)
    assert added == [reg._l2.variable]
    assert rk._schedules.expose_as_state(model) == []
    assert any(v is reg._l2.variable for v in model.non_trainable_variables)
    assert len(model.weights) == weights
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert len(loaded.weights) == weights
