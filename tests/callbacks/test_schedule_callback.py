"""ScheduleCallback: per-epoch and per-step updates, logs, warnings."""

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit import schedules
from keras_regkit.regularizers import L2


def _frozen_model(regularizer):
    return helpers.frozen_dense_model(regularizer, input_dim=2)


def _zeros(n):
    return np.zeros((n, 2), "float32"), np.zeros((n, 1), "float32")


@pytest.mark.compat("ScheduleCallback", "TensorFlow")
@pytest.mark.compat("ScheduleCallback", "JAX")
@pytest.mark.compat("ScheduleCallback", "PyTorch")
def test_step_unit_updates_before_each_batch():
    reg = L2(schedules.Custom(lambda step: float(step), unit="step"))
    seen = []
    probe = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(logs["loss"])
    )
    model = _frozen_model(reg)
    x, y = _zeros(12)
    callback = rk.callbacks.ScheduleCallback()
    model.fit(
        x, y, batch_size=4, epochs=2, verbose=0, callbacks=[callback, probe]
    )
    # Batch-end logs hold the running mean of the per-step loss l2 * 2.
    steps = np.arange(6, dtype=float) * 2
    running = [
        steps[e * 3 : e * 3 + b + 1].mean() for e in range(2) for b in range(3)
    ]
    np.testing.assert_allclose(seen, running, rtol=1e-6)
    # A second fit continues counting steps from the optimizer.
    history = model.fit(
        x, y, batch_size=4, epochs=1, verbose=0, callbacks=[callback]
    )
    np.testing.assert_allclose(history.history["loss"], [np.mean([12, 14, 16])])
    assert history.history["l2"] == [8.0]


def test_epoch_unit_honours_initial_epoch():
    reg = L2(schedules.Piecewise([3], [0.0, 1.0]))
    model = _frozen_model(reg)
    x, y = _zeros(4)
    history = model.fit(
        x,
        y,
        epochs=4,
        initial_epoch=2,
        verbose=0,
        callbacks=[rk.callbacks.ScheduleCallback()],
    )
    assert history.history["l2"] == [0.0, 1.0]


def test_log_false_keeps_logs_clean():
    model = _frozen_model(L2(schedules.Linear(0.0, 1.0, duration=1)))
    x, y = _zeros(4)
    history = model.fit(
        x,
        y,
        epochs=1,
        verbose=0,
        callbacks=[rk.callbacks.ScheduleCallback(log=False)],
    )
    assert "l2" not in history.history


def test_progress_bar_shows_the_value(capsys):
    model = _frozen_model(L2(schedules.Linear(0.0, 1.0, duration=1)))
    x, y = _zeros(4)
    model.fit(
        x, y, epochs=2, verbose=2, callbacks=[rk.callbacks.ScheduleCallback()]
    )
    out = capsys.readouterr().out
    assert "l2: 0.0000e+00" in out or "l2: 0.0" in out
    assert "l2: 1.0000" in out


def test_warns_when_nothing_is_scheduled():
    model = _frozen_model(L2(0.1))
    x, y = _zeros(4)
    with pytest.warns(UserWarning, match="found no scheduled value"):
        model.fit(
            x,
            y,
            epochs=1,
            verbose=0,
            callbacks=[rk.callbacks.ScheduleCallback()],
        )


def test_without_callback_value_stays_at_index_zero():
    model = _frozen_model(L2(schedules.Linear(1.0, 0.0, duration=1)))
    x, y = _zeros(4)
    history = model.fit(x, y, epochs=2, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [2.0, 2.0])


@pytest.mark.parametrize("name", ["log", "warn_if_unused"])
@pytest.mark.parametrize("bad", ["yes", 1, 0.0, np.bool_(True), None])
def test_flags_must_be_python_booleans(name, bad):
    with pytest.raises(
        TypeError,
        match=f"ScheduleCallback: .*argument `{name}`.*True or False",
    ):
        rk.callbacks.ScheduleCallback(**{name: bad})


def test_config_round_trip():
    callback = rk.callbacks.ScheduleCallback(log=False, warn_if_unused=False)
    again = rk.callbacks.ScheduleCallback(**callback.get_config())
    assert again.get_config() == {"log": False, "warn_if_unused": False}
