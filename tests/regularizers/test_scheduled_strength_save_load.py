"""A scheduled strength survives model.save / load_model where it stood.

Issue 12 §2: a reloaded model's scheduled strength restarted at the
schedule's index 0 (``L2(lam=Linear(0, 1, 3), num_examples=10)`` after 4
epochs: penalty 0.207 before, 0 after loading; ``L2(Piecewise([2],
[1e-3, 1e-2]))``: 0.0310 before, 0.0031 after).
"""

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit import schedules
from keras_regkit.regularizers import L1L2
from keras_regkit.regularizers import L2


def _trained(regularizer, epochs=4):
    x, y = helpers.regression_data((6,))
    model = helpers.dense_model(regularizer)
    model.compile(keras.optimizers.SGD(0.01), "mse")
    model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=8,
        verbose=0,
        callbacks=[rk.callbacks.ScheduleCallback()],
    )
    return model, x, y


def _logged(history, name):
    """The first logged value called ``name`` or ``<layer>/name``.

    Keras loads one regularizer instance per layer, so a strength shared by
    two layers is logged per layer after loading (``dense/l2``).
    """
    key = next(k for k in history if k == name or k.endswith("/" + name))
    return history[key]


def _sum_squares(model):
    return sum(
        float(np.square(keras.ops.convert_to_numpy(layer.kernel)).sum())
        for layer in model.layers
    )


@pytest.mark.parametrize(
    "regularizer, strength_after_4_epochs",
    [
        # lam at epoch index 3 is 1.0; l2 = lam / (2 m) = 0.05.
        (
            L2(lam=schedules.Linear(0.0, 1.0, duration=3), num_examples=10),
            0.05,
        ),
        (L2(schedules.Piecewise([2], [1e-3, 1e-2])), 1e-2),
    ],
    ids=["linear-lam", "piecewise-l2"],
)
def test_reloaded_model_keeps_the_strength(
    regularizer, strength_after_4_epochs, tmp_path
):
    model, x, y = _trained(regularizer)
    penalty = sum(helpers.penalties(model))
    np.testing.assert_allclose(
        penalty, strength_after_4_epochs * _sum_squares(model), rtol=1e-5
    )
    loaded = helpers.save_and_load(model, tmp_path / "m.keras")
    np.testing.assert_allclose(sum(helpers.penalties(loaded)), penalty)
    np.testing.assert_allclose(
        loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0)
    )
    restored = loaded.layers[0].kernel_regularizer
    assert restored.l2 == pytest.approx(strength_after_4_epochs)
    name = "lam" if restored.num_examples else "l2"
    assert restored.get_config()["schedule_index"] == {name: 3}


def test_continuing_fit_continues_the_schedule(tmp_path):
    """A ramp still moving: the reloaded run matches the uninterrupted one."""
    ramp = schedules.Linear(0.0, 1e-2, duration=8)
    model, x, y = _trained(L2(ramp), epochs=3)
    loaded = helpers.save_and_load(model, tmp_path / "m.keras")
    assert loaded.layers[0].kernel_regularizer.l2 == pytest.approx(2.5e-3)
    runs = []
    for m in (model, loaded):
        history = m.fit(
            x,
            y,
            initial_epoch=3,
            epochs=5,
            batch_size=8,
            shuffle=False,  # the same batches for both models
            verbose=0,
            callbacks=[rk.callbacks.ScheduleCallback()],
        )
        runs.append(history.history)
    np.testing.assert_allclose(runs[0]["l2"], [3.75e-3, 5e-3])
    np.testing.assert_allclose(_logged(runs[1], "l2"), runs[0]["l2"])
    np.testing.assert_allclose(runs[1]["loss"], runs[0]["loss"], rtol=1e-6)


def test_step_schedule_continues_from_the_optimizer_step(tmp_path):
    ramp = schedules.Linear(0.0, 1.0, duration=40, unit="step")
    reg = L1L2(l1=0.01, l2=ramp)
    model, x, y = _trained(reg, epochs=2)  # 4 steps a epoch: last index 7
    loaded = helpers.save_and_load(model, tmp_path / "m.keras")
    restored = loaded.layers[0].kernel_regularizer
    assert restored.get_config()["schedule_index"] == {"l2": 7}
    assert restored.l2 == pytest.approx(7 / 40)
    assert restored.l1 == 0.01
    history = loaded.fit(
        x,
        y,
        epochs=1,
        batch_size=8,
        verbose=0,
        callbacks=[rk.callbacks.ScheduleCallback()],
    )
    assert _logged(history.history, "l2") == pytest.approx([11 / 40])


def test_config_carries_the_index_and_from_config_restores_it():
    reg = L2(schedules.Linear(0.0, 1.0, duration=4))
    assert reg.get_config()["schedule_index"] == {"l2": 0}
    reg._l2.update(2)
    config = reg.get_config()
    assert config == {
        "l2": keras.saving.serialize_keras_object(reg._l2.schedule),
        "lam": None,
        "num_examples": None,
        "schedule_index": {"l2": 2},
    }
    again = L2.from_config(config)
    assert again.l2 == 0.5
    assert float(keras.ops.convert_to_numpy(again._l2.variable)) == 0.5
    assert again.get_config() == config
    assert "schedule_index" not in L2(0.5).get_config()


def test_bad_saved_index_is_reported():
    config = L2(schedules.Linear(0.0, 1.0, duration=4)).get_config()
    config["schedule_index"] = {"l2": -1}
    with pytest.raises(ValueError, match="L2: .*`schedule_index`.*>= 0"):
        L2.from_config(config)
