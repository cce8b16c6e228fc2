"""L1, L2, L1L2: drop-in equality with Keras, textbook form, schedules."""

import math

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit import schedules
from keras_regkit.regularizers import L1
from keras_regkit.regularizers import L1L2
from keras_regkit.regularizers import L2

SHAPES = [(5,), (4, 3), (3, 2, 4, 5)]


def _kernel(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


@pytest.mark.parametrize("shape", SHAPES)
def test_values_match_numpy_formula(shape):
    w = _kernel(shape)
    np.testing.assert_allclose(L1(0.3)(w), 0.3 * np.abs(w).sum(), rtol=1e-6)
    np.testing.assert_allclose(L2(0.3)(w), 0.3 * np.square(w).sum(), rtol=1e-6)
    np.testing.assert_allclose(
        L1L2(0.2, 0.7)(w),
        0.2 * np.abs(w).sum() + 0.7 * np.square(w).sum(),
        rtol=1e-6,
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "ours, theirs",
    [
        (L1(), keras.regularizers.L1()),
        (L2(), keras.regularizers.L2()),
        (L1L2(), keras.regularizers.L1L2()),
        (L1(0.07), keras.regularizers.L1(0.07)),
        (L2(0.07), keras.regularizers.L2(0.07)),
        (L1L2(l1=0.1), keras.regularizers.L1L2(l1=0.1)),
        (L1L2(l2=0.1), keras.regularizers.L1L2(l2=0.1)),
        (L1L2(0.1, 0.2), keras.regularizers.L1L2(0.1, 0.2)),
        (L1(None), keras.regularizers.L1(None)),
        (L2(None), keras.regularizers.L2(None)),
        (L1L2(None, None), keras.regularizers.L1L2(None, None)),
    ],
)
def test_drop_in_equal_to_keras(ours, theirs, shape):
    w = _kernel(shape, seed=len(shape))
    np.testing.assert_allclose(ours(w), theirs(w), rtol=1e-6)


def test_same_defaults_as_keras():
    assert L1().l1 == pytest.approx(keras.regularizers.L1().get_config()["l1"])
    assert L2().l2 == keras.regularizers.L2().get_config()["l2"]
    assert L1L2().get_config() == keras.regularizers.L1L2().get_config()


@pytest.mark.parametrize("alias", ["l1", "L1", "l2", "L2", "l1l2", "L1L2"])
def test_string_aliases_match_keras(alias):
    ours = rk.regularizers.get(alias)
    theirs = keras.regularizers.get(alias)
    assert type(ours).__name__ == type(theirs).__name__
    w = _kernel((4, 3))
    np.testing.assert_allclose(ours(w), theirs(w), rtol=1e-6)
    assert type(ours).__module__.startswith("keras_regkit")


def test_config_holds_plain_floats():
    config = L1(0.1).get_config()
    assert type(config["l1"]) is float and config["l1"] == 0.1
    # Keras's own L1 leaks a float32-rounded value; ours keeps the float.
    assert keras.regularizers.L1(0.1).get_config()["l1"] != 0.1
    config = L1L2(np.float32(0.5), 0.25).get_config()
    assert type(config["l1"]) is float and type(config["l2"]) is float


def test_textbook_l2_equals_formula():
    w = _kernel((4, 3))
    lam, m = 0.7, 250
    expected = lam / (2 * m) * np.square(w).sum()
    reg = L2(lam=lam, num_examples=m)
    np.testing.assert_allclose(reg(w), expected, rtol=1e-6)
    assert reg.l2 == pytest.approx(lam / (2 * m))


def test_textbook_l1_equals_formula():
    w = _kernel((4, 3))
    lam, m = 0.7, 250
    reg = L1(lam=lam, num_examples=m)
    np.testing.assert_allclose(reg(w), lam / m * np.abs(w).sum(), rtol=1e-6)


def test_textbook_cost_is_what_fit_minimises():
    """With batch = m, the loss Keras reports is the course-notes cost J."""
    m, lam = 16, 3.0
    x, y = helpers.regression_data((3,), n=m)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(
                1,
                kernel_regularizer=L2(lam=lam, num_examples=m),
                kernel_initializer="glorot_uniform",
            ),
        ]
    )
    model.compile(keras.optimizers.SGD(0.0), "mse")
    reported = model.evaluate(x, y, batch_size=m, verbose=0)
    kernel, bias = (np.asarray(v) for v in model.weights)
    data_cost = np.mean(np.square(x @ kernel + bias - y))
    cost = data_cost + lam / (2 * m) * np.square(kernel).sum()
    np.testing.assert_allclose(reported, cost, rtol=1e-5)


def test_textbook_config_round_trip():
    reg = L2(lam=0.5, num_examples=100)
    config = reg.get_config()
    assert config == {"l2": None, "lam": 0.5, "num_examples": 100}
    again = L2.from_config(config)
    w = _kernel((3, 3))
    np.testing.assert_allclose(again(w), reg(w))


@pytest.mark.parametrize("cls, name", [(L1, "l1"), (L2, "l2")])
@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, -math.inf])
def test_bad_strength_raises_value_error(cls, name, bad):
    with pytest.raises(ValueError, match=f"argument `{name}`.*>= 0"):
        cls(bad)


def test_bad_strength_type_raises_type_error():
    with pytest.raises(TypeError, match="argument `l2`.*Received: l2='big'"):
        L2("big")
    with pytest.raises(TypeError, match="argument `l1`"):
        L1L2(l1=True)


def test_textbook_arguments_refuse_booleans():
    for cls in (L1, L2):
        for flag in (True, np.bool_(True)):
            with pytest.raises(TypeError, match=f"{cls.__name__}: .*`lam`"):
                cls(lam=flag, num_examples=10)
            with pytest.raises(TypeError, match="argument `num_examples`"):
                cls(lam=0.1, num_examples=flag)


def test_l1l2_negative_raises():
    with pytest.raises(ValueError, match="argument `l2`.*Received: l2=-1"):
        L1L2(0.1, -1)


def test_textbook_argument_errors():
    with pytest.raises(ValueError, match="argument `num_examples`"):
        L2(lam=0.1)
    with pytest.raises(
        ValueError, match="argument `num_examples`.*None unless"
    ):
        L2(num_examples=100)
    with pytest.raises(ValueError, match="argument `l2`.*either `l2`"):
        L2(0.5, lam=0.1, num_examples=100)
    with pytest.raises(ValueError, match="argument `num_examples`.*>= 1"):
        L1(lam=0.1, num_examples=0)
    with pytest.raises(ValueError, match="argument `lam`.*>= 0"):
        L1(lam=-0.1, num_examples=10)


@pytest.mark.compat("L1/L2/L1L2", "TensorFlow")
@pytest.mark.compat("L1/L2/L1L2", "JAX")
@pytest.mark.compat("L1/L2/L1L2", "PyTorch")
@pytest.mark.parametrize("reg", [L1(1e-3), L2(1e-3), L1L2(1e-3, 1e-3)])
def test_dense_model_fit_save_load(reg, tmp_path):
    x, y = helpers.regression_data((6,))
    helpers.fit_save_load(
        helpers.dense_model(reg), x, y, str(tmp_path / "m.keras")
    )


@pytest.mark.parametrize("reg", [L1(1e-3), L2(lam=0.1, num_examples=32)])
def test_conv_model_fit_save_load(reg, tmp_path):
    x, y = helpers.regression_data((7, 5, 2))
    helpers.fit_save_load(
        helpers.conv_model(reg), x, y, str(tmp_path / "m.keras")
    )


def test_scheduled_l2_changes_penalty_without_retracing():
    ramp = schedules.Linear(0.0, 1e-2, duration=2)
    history, traces = helpers.scheduled_penalty_run(L2(ramp), epochs=4)
    # Kernel of 3 ones: penalty = l2 * 3.
    np.testing.assert_allclose(
        history["loss"], [0.0, 0.015, 0.03, 0.03], atol=1e-7
    )
    np.testing.assert_allclose(history["l2"], [0.0, 0.005, 0.01, 0.01])
    helpers.assert_not_retraced(traces)


def test_scheduled_textbook_lambda():
    ramp = schedules.Piecewise([1], [0.0, 4.0])
    reg = L2(lam=ramp, num_examples=8)
    history, traces = helpers.scheduled_penalty_run(reg, epochs=2)
    np.testing.assert_allclose(history["loss"], [0.0, 4.0 / 16 * 3], rtol=1e-6)
    np.testing.assert_allclose(history["lam"], [0.0, 0.25])
    helpers.assert_not_retraced(traces)


def test_scheduled_l1l2_both_terms():
    reg = L1L2(
        l1=schedules.Linear(0.0, 1.0, duration=1),
        l2=schedules.Linear(1.0, 0.0, duration=1),
    )
    history, _ = helpers.scheduled_penalty_run(reg, epochs=2)
    # Epoch 0: l2 = 1 on 3 ones -> 3; epoch 1: l1 = 1 -> 3.
    np.testing.assert_allclose(history["loss"], [3.0, 3.0], rtol=1e-6)
    np.testing.assert_allclose(history["l1"], [0.0, 1.0])


def test_schedule_going_negative_fails_with_argument_name():
    reg = L2(schedules.Linear(0.01, -0.01, duration=2))
    with pytest.raises(ValueError, match="argument `l2`.*>= 0"):
        helpers.scheduled_penalty_run(reg, epochs=3)


def test_scheduled_config_round_trip(tmp_path):
    reg = L2(schedules.Cosine(1e-4, 1e-3, duration=5, delay=1))
    config = reg.get_config()
    again = L2.from_config(config)
    assert again.get_config() == config
    assert again._l2.schedule(3) == reg._l2.schedule(3)
    x, y = helpers.regression_data((6,))
    loaded = helpers.fit_save_load(
        helpers.dense_model(reg),
        x,
        y,
        str(tmp_path / "m.keras"),
        callbacks=[rk.callbacks.ScheduleCallback()],
    )
    restored = loaded.layers[0].kernel_regularizer
    assert isinstance(restored._l2.schedule, schedules.Cosine)


def test_serialize_round_trip_and_none():
    regularizer = rk.regularizers.deserialize(
        rk.regularizers.serialize(L2(0.25))
    )
    assert isinstance(regularizer, L2)
    assert regularizer.get_config()["l2"] == 0.25
    assert rk.regularizers.serialize(None) is None
    assert isinstance(rk.regularizers.deserialize("l2"), L2)


@pytest.mark.parametrize("value", [1, "l2", (1,), np.zeros(2), object()])
def test_serialize_rejects_what_is_not_a_regularizer(value):
    with pytest.raises(
        TypeError, match=r"^regularizers.serialize: .*argument `regularizer`"
    ):
        rk.regularizers.serialize(value)


@pytest.mark.parametrize(
    "config, error",
    [
        (None, TypeError),
        (1, TypeError),
        ([[1]], TypeError),
        ("bogus", ValueError),
        ("", ValueError),
    ],
)
def test_deserialize_rejects_bad_config(config, error):
    with pytest.raises(
        error, match=r"^regularizers.deserialize: .*argument `config`"
    ):
        rk.regularizers.deserialize(config)


@pytest.mark.parametrize("custom_objects", [0, False, "", [1], object()])
def test_deserialize_rejects_bad_custom_objects(custom_objects):
    config = rk.regularizers.serialize(L2(0.25))
    with pytest.raises(TypeError, match="argument `custom_objects`"):
        rk.regularizers.deserialize(config, custom_objects=custom_objects)
