"""Public schedules: values, validation, serialization."""

import math

import keras
import numpy as np
import pytest

from keras_regkit import schedules


def test_linear_ramp_values():
    ramp = schedules.Linear(1.0, 3.0, duration=4, delay=2)
    assert [ramp(i) for i in range(8)] == [
        1.0,
        1.0,
        1.0,
        1.5,
        2.0,
        2.5,
        3.0,
        3.0,
    ]
    assert ramp.unit == "epoch"


def test_cosine_ramp_values():
    ramp = schedules.Cosine(0.0, 2.0, duration=4)
    expected = [
        2.0 * (1 - math.cos(math.pi * min(i / 4, 1))) / 2 for i in range(6)
    ]
    np.testing.assert_allclose([ramp(i) for i in range(6)], expected)


def test_piecewise_values_and_boundaries():
    schedule = schedules.Piecewise([3, 5], [0.1, 0.2, 0.3], unit="step")
    assert [schedule(i) for i in range(7)] == [
        0.1,
        0.1,
        0.1,
        0.2,
        0.2,
        0.3,
        0.3,
    ]
    assert schedule.unit == "step"


def test_custom_wraps_keras_learning_rate_schedule():
    decay = keras.optimizers.schedules.ExponentialDecay(1.0, 10, 0.5)
    schedule = schedules.Custom(decay, unit="step")
    assert schedule(10) == pytest.approx(0.5)
    again = schedules.Custom.from_config(schedule.get_config())
    assert again(20) == pytest.approx(0.25)


@keras.saving.register_keras_serializable(package="keras_regkit_tests")
def halving(epoch):
    return 0.5**epoch


def test_custom_with_registered_function_round_trips():
    schedule = schedules.Custom(halving)
    config = keras.saving.serialize_keras_object(schedule)
    assert keras.saving.deserialize_keras_object(config)(3) == 0.125
    # Safe mode (Keras's default) calls no function this process did not
    # register, e.g. one of Keras's own named in a crafted file.
    config["config"]["function"]["config"] = "set_epsilon"
    config["config"]["function"]["module"] = "keras.config"
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.saving.deserialize_keras_object(config)


@pytest.mark.parametrize(
    "cls",
    [schedules.Linear, schedules.Cosine, schedules.Piecewise, schedules.Custom],
)
def test_registered_and_round_trip(cls):
    examples = {
        schedules.Linear: dict(
            start=0.1, end=0.5, duration=3, delay=1, unit="step"
        ),
        schedules.Cosine: dict(
            start=0.1, end=0.5, duration=3, delay=1, unit="step"
        ),
        schedules.Piecewise: dict(
            boundaries=[2], values=[1.0, 2.0], unit="step"
        ),
        schedules.Custom: dict(function=halving, unit="step"),
    }
    schedule = cls(**examples[cls])
    assert (
        keras.saving.get_registered_name(cls) == f"keras_regkit>{cls.__name__}"
    )
    again = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(schedule),
        safe_mode=cls is not schedules.Custom,  # a function: trusted here
    )
    assert type(again) is cls
    assert [again(i) for i in range(6)] == [schedule(i) for i in range(6)]
    assert "unit='step'" in repr(schedule)


def test_bad_arguments():
    with pytest.raises(ValueError, match="argument `unit`.*'epoch', 'step'"):
        schedules.Linear(0, 1, 2, unit="batch")
    with pytest.raises(ValueError, match="argument `duration`.*>= 1"):
        schedules.Linear(0, 1, duration=0)
    with pytest.raises(ValueError, match="argument `delay`.*>= 0"):
        schedules.Cosine(0, 1, duration=2, delay=-1)
    with pytest.raises(ValueError, match="argument `start`.*finite"):
        schedules.Linear(math.nan, 1, duration=2)
    with pytest.raises(ValueError, match="argument `boundaries`.*strictly"):
        schedules.Piecewise([3, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="argument `values`.*3 values"):
        schedules.Piecewise([1, 3], [1, 2])
    with pytest.raises(TypeError, match="argument `function`.*callable"):
        schedules.Custom(0.5)
    with pytest.raises(TypeError, match="Can't instantiate abstract class"):
        schedules.Schedule()


def test_errors_name_the_schedule_and_refuse_booleans():
    with pytest.raises(ValueError, match="Linear: .*`unit`"):
        schedules.Linear(0, 1, 2, unit="batch")
    with pytest.raises(TypeError, match="Cosine: .*`duration`"):
        schedules.Cosine(0, 1, duration=np.bool_(True))
    with pytest.raises(TypeError, match="Linear: .*`start`"):
        schedules.Linear(np.bool_(False), 1, duration=2)
    with pytest.raises(TypeError, match="Piecewise: .*`values`"):
        schedules.Piecewise([1], [np.bool_(True), 0.5])
    with pytest.raises(TypeError, match="Piecewise: .*`boundaries`.*a list"):
        schedules.Piecewise(3, [1, 2])
    with pytest.raises(TypeError, match="Piecewise: .*`values`.*a list"):
        schedules.Piecewise([1], "ab")
    with pytest.raises(TypeError, match="Custom: .*`function`"):
        schedules.Custom(0.5)
