"""The ScheduledValue mechanism and its discovery in models."""

import keras
import pytest

from keras_regkit import _scheduled_value
from keras_regkit import schedules
from keras_regkit.regularizers import L1L2
from keras_regkit.regularizers import L2


def _value(value, **kwargs):
    return _scheduled_value.ScheduledValue(
        value, name="l2", check=_scheduled_value.nonnegative, **kwargs
    )


def test_constant_is_a_plain_float_without_variable():
    value = _value(0.25, scale=2.0)
    assert value.is_constant and value.variable is None
    assert value.read() == 0.5 and value.read("float16") == 0.5
    assert value.config_value() == 0.25
    assert value.update(7) == 0.5


def test_scheduled_value_lives_in_a_non_trainable_variable():
    value = _value(schedules.Linear(0.0, 1.0, duration=4), scale=0.5)
    assert not value.variable.trainable
    assert value.variable.dtype == "float32"
    assert float(value.read()) == 0.0
    assert value.update(2) == 0.25
    assert float(value.read()) == 0.25
    half = value.read("float16")
    assert keras.backend.standardize_dtype(half.dtype) == "float16"


def test_schedule_values_are_validated():
    with pytest.raises(ValueError, match="argument `l2`.*>= 0.*l2=-1.0"):
        _value(schedules.Linear(-1.0, 1.0, duration=2))
    value = _value(lambda epoch: 1.0 - epoch)
    with pytest.raises(ValueError, match="argument `l2`"):
        value.update(2)


def test_unit_defaults_to_epoch_for_plain_callables():
    assert _value(lambda epoch: 0.1).unit == "epoch"
    assert _value(schedules.Custom(lambda s: 0.1, unit="step")).unit == "step"


def test_accepts_serialized_schedule():
    config = keras.saving.serialize_keras_object(schedules.Linear(0, 1, 2))
    value = _value(config)
    assert isinstance(value.schedule, schedules.Linear)


def test_find_shared_and_distinct_values():
    shared = L2(schedules.Linear(0.0, 1.0, duration=2))
    other = L1L2(l1=schedules.Linear(0.0, 1.0, duration=2), l2=0.1)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(2, kernel_regularizer=shared, name="a"),
            keras.layers.Dense(2, kernel_regularizer=shared, name="b"),
            keras.layers.Dense(
                2,
                kernel_regularizer=L2(schedules.Linear(0.0, 1.0, duration=2)),
                bias_regularizer=other,
                name="c",
            ),
        ]
    )
    found = _scheduled_value.find_scheduled_values(model)
    # The shared regularizer is found once; two distinct "l2" get owners.
    assert sorted(found) == ["a/l2", "c/l2", "l1"]
    assert found["a/l2"] is shared._l2
    assert found["l1"] is other._l1


def test_find_in_nested_models_and_on_variables():
    inner = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(2, name="inner_dense")]
    )
    inner.layers[0].kernel.regularizer = L2(
        schedules.Linear(0.0, 1.0, duration=2)
    )
    outer = keras.Sequential([keras.Input((3,)), inner])
    assert list(_scheduled_value.find_scheduled_values(outer)) == ["l2"]


def test_index_follows_updates_and_can_start_later():
    value = _value(schedules.Linear(0.0, 1.0, duration=4))
    assert value.index == 0
    value.update(3)
    assert value.index == 3
    later = _value(schedules.Linear(0.0, 1.0, duration=4), index=2)
    assert later.index == 2 and later.current == 0.5
    assert float(keras.ops.convert_to_numpy(later.variable)) == 0.5
    constant = _value(0.5)
    constant.update(7)
    assert constant.index == 0
    with pytest.raises(ValueError, match="argument `index`.*>= 0"):
        _value(schedules.Linear(0.0, 1.0, duration=4), index=-1)


def test_positions_and_restore_positions():
    reg = L1L2(
        l1=schedules.Linear(0.0, 1.0, duration=4),
        l2=schedules.Custom(lambda step: step / 100, unit="step"),
    )
    reg._l1.update(2)
    reg._l2.update(30)
    saved = _scheduled_value.positions(reg)
    assert saved == {"l1": 2, "l2": 30}
    fresh = L1L2(
        l1=schedules.Linear(0.0, 1.0, duration=4),
        l2=schedules.Custom(lambda step: step / 100, unit="step"),
    )
    _scheduled_value.restore_positions(fresh, saved)
    assert (fresh.l1, fresh.l2) == (0.5, 0.3)
    assert _scheduled_value.positions(L2(0.1)) == {}
    _scheduled_value.restore_positions(fresh, None)  # nothing saved
    with pytest.raises(TypeError, match="L1L2: .*`schedule_index`"):
        _scheduled_value.restore_positions(fresh, [2])


def test_find_on_unbuilt_layers_and_activity_regularizers():
    model = keras.Sequential(
        [
            keras.layers.Dense(
                2,
                bias_regularizer=L2(schedules.Linear(0.0, 1.0, duration=2)),
                activity_regularizer=L1L2(
                    l1=schedules.Linear(0.0, 1.0, duration=2)
                ),
                name="d",
            )
        ]
    )
    assert not model.built
    assert sorted(_scheduled_value.find_scheduled_values(model)) == [
        "l1",
        "l2",
    ]


def _fit_with_schedules(model, epochs=2):
    """Trains a `helpers.frozen_dense_model`; returns the history dict."""
    import numpy as np

    from keras_regkit.callbacks import ScheduleCallback

    history = model.fit(
        np.zeros((8, 3), "float32"),
        np.zeros((8, 1), "float32"),
        epochs=epochs,
        verbose=0,
        callbacks=[ScheduleCallback()],
    )
    return history.history


def test_a_regularizer_shared_by_two_models_is_refused():
    # Issue 19 §4: training model A moved model B's penalty (0 -> 0.11).
    import helpers

    shared = L2(schedules.Linear(0.0, 0.11, duration=1))
    model_a = helpers.frozen_dense_model(shared)
    model_b = helpers.frozen_dense_model(shared)
    history = _fit_with_schedules(model_a)
    assert history["l2"] == pytest.approx([0.0, 0.11])
    with pytest.raises(
        ValueError,
        match=r"ScheduleCallback: .*`model`.*own L2 instance.*also used by "
        rf"the model '{model_a.name}'.*L2\.from_config",
    ):
        _fit_with_schedules(model_b)
    # The fix the message names: B's own instance, at A's position.
    own = L2.from_config(shared.get_config())
    history = _fit_with_schedules(helpers.frozen_dense_model(own), epochs=1)
    assert sorted(history) == ["l2", "loss"]
    assert history["loss"] == pytest.approx([0.0])  # epoch 0: l2 = 0
    assert shared.l2 == pytest.approx(0.11)  # A's instance did not move


def test_models_sharing_the_layers_share_the_regularizer():
    # An encoder and the autoencoder built on it move the same penalty.
    import helpers

    encoder = helpers.frozen_dense_model(
        L2(schedules.Linear(0.0, 0.1, duration=2))
    )
    autoencoder = keras.Sequential(
        [encoder, keras.layers.Dense(3, kernel_initializer="zeros")]
    )
    autoencoder.compile(keras.optimizers.SGD(0.0), "mse")
    _fit_with_schedules(encoder)
    assert "l2" in _scheduled_value.find_scheduled_values(autoencoder)
    assert "l2" in _scheduled_value.find_scheduled_values(encoder)
