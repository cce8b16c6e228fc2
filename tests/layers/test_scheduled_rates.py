"""Scheduled rates: saved with the model, restored, reassigned."""

import json

import helpers
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


@pytest.mark.parametrize(
    "make,input_shape",
    [
        (lambda rate: rk.layers.DropConnectDense(2, rate, seed=1), (3,)),
        (
            lambda rate: rk.layers.DropConnectConv2D(2, 3, rate, seed=1),
            (5, 4, 1),
        ),
    ],
)
def test_drop_connect_rate_is_saved_beside_keras_weights(
    make, input_shape, tmp_path
):
    # Keras's Dense / Conv2D save exactly kernel and bias: the rate is not
    # one of their weights but is saved beside them (issue 12 §2).
    layer = make(schedules.Linear(0.0, 0.5, duration=2))
    model = keras.Sequential(
        [keras.Input(input_shape), layer, keras.layers.Flatten()]
    )
    model.compile("sgd", "mse")
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    x = np.ones((8, *input_shape), "float32")
    y = np.zeros((8, *model.output_shape[1:]), "float32")
    model.fit(
        x, y, epochs=3, verbose=0, callbacks=[rk.callbacks.ScheduleCallback()]
    )
    assert layer.rate == 0.5
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    restored = loaded.layers[0]
    assert float(np.asarray(restored._rate.variable)) == 0.5  # not index 0
    np.testing.assert_array_equal(
        np.asarray(restored.kernel), np.asarray(layer.kernel)
    )
    # Weights-only files too.
    layer._rate.variable.assign(0.25)
    model.save_weights(tmp_path / "m.weights.h5")
    loaded.load_weights(tmp_path / "m.weights.h5")
    assert float(np.asarray(restored._rate.variable)) == 0.25


def test_drop_connect_files_without_a_rate_still_load(tmp_path):
    # Written by a constant-rate layer (as by older versions for any rate):
    # no "rate" entry; a scheduled layer loads the kernel, keeps its rate.
    def model(rate):
        return keras.Sequential(
            [keras.Input((3,)), rk.layers.DropConnectDense(2, rate, seed=1)]
        )

    saved = model(0.3)
    saved.save_weights(tmp_path / "m.weights.h5")
    target = model(schedules.Linear(0.1, 0.5, duration=2))
    target.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(
        np.asarray(target.layers[0].kernel), np.asarray(saved.layers[0].kernel)
    )
    assert np.isclose(float(np.asarray(target.layers[0]._rate.variable)), 0.1)


def test_constant_rate_adds_no_weight():
    layer = rk.layers.DropPath(0.2)
    layer.build((None, 3))
    assert layer.weights == []


def test_update_reassigns_after_weights_were_loaded():
    layer = rk.layers.DropPath(schedules.Linear(0.0, 0.4, duration=4))
    layer._rate.variable.assign(0.3)  # as loading saved weights would
    assert layer._rate.update(0) == 0.0
    assert float(np.asarray(layer._rate.variable)) == 0.0


def _ramp():
    return schedules.Linear(0.0, 0.8, duration=2)


def _scheduled_model():
    return keras.Sequential(
        [
            keras.Input((6, 4)),
            rk.layers.DropPath(_ramp(), seed=1, name="path"),
            rk.layers.DropBlock1D(_ramp(), 2, seed=1, name="block"),
            rk.layers.MCDropout(_ramp(), seed=1, name="mc"),
            rk.layers.DropConnectDense(2, _ramp(), seed=1, name="dense"),
        ]
    )


_NAMES = ["path", "block", "mc", "dense"]


def _fit_ramp(model, epochs=3, **kwargs):
    """Fits with `ScheduleCallback`; returns each layer's rate per epoch."""
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(
            [model.get_layer(name).rate for name in _NAMES]
        )
    )
    model.compile("sgd", "mse")
    model.fit(
        np.ones((8, 6, 4), "float32"),
        np.zeros((8, 6, 2), "float32"),
        epochs=epochs,
        verbose=0,
        callbacks=[rk.callbacks.ScheduleCallback(), record],
        **kwargs,
    )
    return seen


@pytest.mark.new_process
def test_rate_after_load_model_in_a_new_process_is_the_value_in_use(tmp_path):
    # Issue 19 §4: a reloaded layer read `.rate == 0.0` (the schedule at
    # index 0) while its saved variable, the value in use, held 0.8.
    model = _scheduled_model()
    seen = _fit_ramp(model)
    assert seen == [[0.0] * 4, [0.4] * 4, [0.8] * 4]  # the callback moves it
    model.save(tmp_path / "m.keras")
    result = helpers.run_python(
        f"""
        import json
        import keras
        import numpy as np
        import keras_regkit as rk
        import keras_regkit.callbacks, keras_regkit.layers
        import keras_regkit.schedules

        model = keras.models.load_model({str(tmp_path / "m.keras")!r})
        names = {_NAMES!r}

        def state():
            return [
                [
                    model.get_layer(name).rate,
                    float(keras.ops.convert_to_numpy(
                        model.get_layer(name)._rate.variable
                    )),
                ]
                for name in names
            ]

        loaded = state()
        model.compile("sgd", "mse")
        model.fit(
            np.ones((8, 6, 4), "float32"),
            np.zeros((8, 6, 2), "float32"),
            initial_epoch=1,
            epochs=2,
            verbose=0,
            callbacks=[rk.callbacks.ScheduleCallback()],
        )
        print(json.dumps({{"loaded": loaded, "moved": state()}}))
        """
    )
    child = json.loads(result.stdout.strip().splitlines()[-1])
    for name, (rate, held) in zip(_NAMES, child["loaded"], strict=True):
        assert rate == 0.8, f"{name}: rate {rate}, variable {held}"
        assert np.float32(held) == np.float32(0.8), name
    for name, (rate, held) in zip(_NAMES, child["moved"], strict=True):
        assert rate == 0.4 and np.float32(held) == np.float32(0.4), name


def test_rate_reads_the_variable_after_load_weights_or_assign(tmp_path):
    # A weights-only file carries the variable, not the schedule's index.
    model = _scheduled_model()
    _fit_ramp(model)
    model.save_weights(tmp_path / "m.weights.h5")
    fresh = _scheduled_model()
    assert [fresh.get_layer(n).rate for n in _NAMES] == [0.0] * 4
    fresh.load_weights(tmp_path / "m.weights.h5")
    assert [fresh.get_layer(n).rate for n in _NAMES] == [
        float(np.float32(0.8))
    ] * 4
    layer = fresh.get_layer("path")
    layer._rate.variable.assign(0.3)
    assert layer.rate == float(np.float32(0.3))
    layer._rate.update(2)  # the callback's assignment: the exact value
    assert layer.rate == 0.8


def test_schedule_index_is_in_the_config():
    model = _scheduled_model()
    _fit_ramp(model)
    for name in _NAMES:
        layer = model.get_layer(name)
        config = layer.get_config()
        assert config["schedule_index"] == {"rate": 2}, name
        copy = type(layer).from_config(config)
        assert copy.rate == 0.8 and copy._rate.index == 2, name
        assert copy.get_config() == config, name
    constant = rk.layers.DropPath(0.2).get_config()
    assert "schedule_index" not in constant
