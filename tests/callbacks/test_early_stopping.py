"""Tests for rk.callbacks.EarlyStopping.

Most tests drive the callback hooks with synthetic curves (as Keras's own
`early_stopping_test.py` does); a few run `fit` on a tiny model, with a
scripted callback that writes the monitored value into the epoch logs.
The monitor's behaviour (direction, ``min_delta``, smoothing) is tested in
test_monitor.py, Prechelt's criteria in test_prechelt.py.
"""

import importlib.util
import inspect
import json
import math
import os
import pathlib
import textwrap

import helpers
import keras
import numpy as np
import pytest
from callbacks.stopping_helpers import DummyModel
from callbacks.stopping_helpers import drive
from callbacks.stopping_helpers import resume

import keras_regkit as rk
from keras_regkit.callbacks.weight_snapshot import WeightSnapshot

EarlyStopping = rk.callbacks.EarlyStopping


def _config_examples():
    path = pathlib.Path(__file__).with_name("config_examples.py")
    spec = importlib.util.spec_from_file_location("config_examples", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CONFIG_EXAMPLES


def tiny_model(units=2):
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(units, name="dense")]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


def tiny_data(n=16):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, (x @ np.ones((3, 2), "float32")) * 0.5


class ScriptedLogs(keras.callbacks.Callback):
    """Writes a scripted value into the epoch logs; records the weights."""

    def __init__(self, key, values, fail_at=None, exception=None):
        super().__init__()
        self.key = key
        self.values = values
        self.fail_at = fail_at
        self.exception = exception
        self.weights = []
        self.optimizer_values = []

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.fail_at:
            raise self.exception

    def on_epoch_end(self, epoch, logs=None):
        if self.values is not None:
            logs[self.key] = self.values[epoch]
        self.weights.append(self.model.get_weights())
        self.optimizer_values.append(
            [np.asarray(v) for v in self.model.optimizer.variables]
        )


def assert_weights_equal(actual, expected):
    assert len(actual) == len(expected)
    for a, b in zip(actual, expected, strict=True):
        np.testing.assert_array_equal(a, b)


# Keras's cases, with the exact numbers of its test suite.


@pytest.mark.parametrize("patience", [0, 1, 2, 3])
def test_patience_matches_keras(patience):
    losses = [10.0, 9.0, 8.0, 9.0, 8.9, 8.8, 8.7, 8.6, 8.5]
    stopper = EarlyStopping(monitor="loss", patience=patience)
    model = keras.Sequential()
    model.compile(loss="mse", optimizer="sgd")
    drive(stopper, losses, model=model, key="loss")
    assert stopper.stopped_epoch == max(patience, 1) + 2
    assert stopper.best_epoch == 2
    assert stopper.best_value == 8.0


def test_restores_best_weights_of_dummy_model():
    stopper = EarlyStopping(
        monitor="val_loss", patience=2, restore_best_weights=True
    )
    drive(stopper, [0.2, 0.15, 0.1, 0.11, 0.12])
    assert stopper.model.get_weights() == 2
    assert stopper.best_weights == 2


def test_baseline_never_beaten_trains_patience_epochs_and_restores():
    stopper = EarlyStopping(
        monitor="val_loss", patience=5, baseline=0.5, restore_best_weights=True
    )
    epochs = drive(stopper, [0.9, 0.8, 0.7, 0.71, 0.72, 0.73])
    assert epochs == 5
    assert stopper.model.get_weights() == 2
    assert stopper.stop_reason == (
        "val_loss did not beat the baseline 0.5 for 5 epochs"
    )


def test_baseline_beaten_restarts_the_count():
    stopper = EarlyStopping(monitor="val_loss", patience=2, baseline=0.5)
    epochs = drive(stopper, [0.9, 0.4, 0.45, 0.46, 0.47])
    # Epoch 1 beats the baseline and the best: the count restarts there.
    assert epochs == 4
    assert stopper.stop_reason == "val_loss did not improve for 2 epochs"


def test_restores_when_another_callback_stops_training():
    stopper = EarlyStopping(
        monitor="val_loss", patience=5, baseline=0.5, restore_best_weights=True
    )
    model = DummyModel()
    stopper.set_model(model)
    stopper.on_train_begin()
    losses = [0.9, 0.8, 0.7, 0.71, 0.72, 0.73]
    epochs = 0
    for epoch, loss in enumerate(losses):
        epochs += 1
        model.weights = epoch
        stopper.on_epoch_end(epoch, logs={"val_loss": loss})
        if epoch == 3:
            model.stop_training = True
        if model.stop_training:
            break
    stopper.on_train_end()
    assert epochs == 4
    assert model.get_weights() == 2
    assert stopper.stop_reason is None
    assert stopper.stopped_epoch == 0


@pytest.mark.parametrize(
    "patience, expected_stop", [(3, 5), (0, 3)], ids=["patience3", "patience0"]
)
def test_start_from_epoch_ignores_warm_up(patience, expected_stop):
    stopper = EarlyStopping(
        monitor="loss", patience=patience, start_from_epoch=2
    )
    drive(stopper, [5.0, 6.0] + [1.0] * 10, key="loss")
    assert stopper.stopped_epoch == expected_stop
    assert stopper.monitor_history["epoch"][0] == 2
    assert stopper.best_epoch == 2


def test_reuse_resets_state_between_runs():
    stopper = EarlyStopping(monitor="loss", patience=2)
    drive(stopper, [1.0, 0.1, 0.2, 0.3], key="loss")
    assert stopper.stopped_epoch == 3
    # A second run (another model) must not compare with the stale 0.1.
    epochs = drive(stopper, [0.9, 0.8, 0.7, 0.6, 0.5], key="loss")
    assert epochs == 5
    assert stopper.stopped_epoch == 0
    assert stopper.stop_reason is None
    assert stopper.best_value == 0.5
    assert stopper.monitor_history["loss"] == [0.9, 0.8, 0.7, 0.6, 0.5]


@pytest.mark.slow
def test_keras_fit_cases_reuse_baseline_start_from_epoch():
    rng = np.random.default_rng(0)
    data = rng.random((40, 1)).astype("float32")
    labels = (data > 0.5).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(1, activation="relu"),
            keras.layers.Dense(1, activation="relu"),
        ]
    )
    model.compile(optimizer="sgd", loss="mae", metrics=["mse"])
    fit = dict(batch_size=40, verbose=0, epochs=20)
    stopper = EarlyStopping(monitor="mse", patience=3)
    for _ in range(2):
        history = model.fit(data, labels, callbacks=[stopper], **fit)
        assert len(history.epoch) >= 3
    stopper = EarlyStopping(monitor="mse", patience=3, baseline=0.6)
    history = model.fit(data, labels, callbacks=[stopper], **fit)
    assert len(history.epoch) >= 3
    for patience, minimum in [(3, 5), (0, 2)]:
        stopper = EarlyStopping(
            monitor="mse", patience=patience, start_from_epoch=2
        )
        history = model.fit(data, labels, callbacks=[stopper], **fit)
        assert len(history.epoch) >= minimum


def test_verbose_prints_summary_and_keras_restore_message(capsys):
    stopper = EarlyStopping(
        monitor="val_loss", patience=2, verbose=1, restore_best_weights=True
    )
    drive(stopper, [0.3, 0.1, 0.2, 0.3])
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "Epoch 4: early stopping: val_loss did not improve for 2 epochs; "
        "best val_loss: 0.1 at epoch 2.",
        "Restoring model weights from the end of the best epoch: 2.",
    ]


def test_verbose_summary_without_stop_or_without_best(capsys):
    drive(EarlyStopping(patience=5, verbose=1), [0.3, 0.1, 0.2])
    drive(EarlyStopping(verbose=1, check_finite=True), [math.nan])
    assert capsys.readouterr().out.splitlines() == [
        "Early stopping did not stop training; best val_loss: 0.1 at epoch 2.",
        "Epoch 1: early stopping: val_loss is nan, not a finite number.",
    ]


def test_verbose_zero_prints_nothing(capsys):
    drive(EarlyStopping(restore_best_weights=True), [0.3, 0.1, 0.2])
    assert capsys.readouterr().out == ""


# Unlike Keras: validation, missing keys, config.


# One test over the whole table: each case costs a session teardown when
# parametrized.
BAD_ARGUMENTS = [
    ({"mode": "maximum"}, ValueError, "argument `mode`.*'auto'"),
    ({"mode": ["min"] * 2}, ValueError, "argument `mode`"),
    ({"patience": -1}, ValueError, "argument `patience`.*>= 0"),
    ({"patience": 1.5}, TypeError, "argument `patience`"),
    ({"min_delta": "0.1"}, TypeError, "argument `min_delta`"),
    ({"monitor": 3}, TypeError, "argument `monitor`"),
    ({"monitor": ["a", "a"]}, ValueError, "argument `monitor`"),
    ({"monitor": ""}, ValueError, "argument `monitor`.*non-empty"),
    ({"monitor": ["a", ""]}, ValueError, "argument `monitor`.*non-empty"),
    ({"monitor": []}, TypeError, "argument `monitor`"),
    ({"verbose": -1}, ValueError, "argument `verbose`"),
    ({"baseline": math.nan}, ValueError, "argument `baseline`"),
    ({"restore_best_weights": 1}, TypeError, "restore_best_weights"),
    ({"start_from_epoch": -2}, ValueError, "argument `start_from_epoch`"),
    ({"min_delta_mode": "percent"}, ValueError, "min_delta_mode"),
    ({"smoothing": "median"}, ValueError, "argument `smoothing`"),
    ({"smoothing_window": 0}, ValueError, "argument `smoothing_window`"),
    ({"check_finite": "yes"}, TypeError, "argument `check_finite`"),
    ({"stopping_threshold": "a"}, TypeError, "stopping_threshold"),
    ({"divergence_threshold": math.inf}, ValueError, "divergence"),
    ({"criterion": "GL2"}, ValueError, "argument `criterion`"),
    ({"criterion": "GL"}, ValueError, "criterion_threshold.*a number"),
    ({"criterion_threshold": 2.0}, ValueError, "None when criterion"),
    (
        {"criterion": "GL", "criterion_threshold": 0.0},
        ValueError,
        "criterion_threshold.*> 0",
    ),
    (
        {"criterion": "UP", "criterion_threshold": 1.5},
        TypeError,
        "criterion_threshold.*an integer",
    ),
    (
        {"criterion": "GL", "criterion_threshold": 5, "mode": "max"},
        ValueError,
        "argument `mode`.*minimise",
    ),
    ({"strip_length": 0}, ValueError, "argument `strip_length`"),
    ({"combine": "both"}, ValueError, "argument `combine`"),
    ({"save_best_to": "best.h5"}, ValueError, "save_best_to.*weights.h5"),
    ({"save_best_to": 5}, TypeError, "argument `save_best_to`"),
    ({"include_optimizer": None}, TypeError, "include_optimizer"),
    ({"strict": "no"}, TypeError, "argument `strict`"),
]


def test_bad_arguments_raise():
    for kwargs, error, match in BAD_ARGUMENTS:
        with pytest.raises(
            error, match=f"Invalid value received for .*{match}"
        ) as info:
            EarlyStopping(**kwargs)
        assert info.type is error, kwargs


def test_monitored_value_must_be_a_single_number():
    stopper = EarlyStopping(monitor="f1", mode="max")
    stopper.set_model(DummyModel())
    stopper.on_train_begin()
    stopper.on_epoch_end(0, {"f1": np.array([0.5], "float32")})
    assert stopper.best_value == 0.5
    with pytest.raises(ValueError, match=r"`f1`, whose value has shape \(2,\)"):
        stopper.on_epoch_end(1, {"f1": np.array([0.5, 0.6])})


def test_verbose_accepts_bool():
    assert EarlyStopping(verbose=True).verbose == 1


def test_missing_key_warns_naming_available_keys():
    stopper = EarlyStopping(monitor="val_loss")
    stopper.set_model(DummyModel())
    stopper.on_train_begin()
    with pytest.warns(UserWarning, match="`val_loss`.*are: loss,accuracy"):
        stopper.on_epoch_end(0, {"loss": 1.0, "accuracy": 0.5})
    assert stopper.monitor_history["epoch"] == []
    assert not stopper.model.stop_training


def test_missing_key_raises_when_strict():
    stopper = EarlyStopping(monitor="val_loss", strict=True)
    stopper.set_model(DummyModel())
    stopper.on_train_begin()
    with pytest.raises(ValueError, match="`val_loss`.*Available.*: loss"):
        stopper.on_epoch_end(0, {"loss": 1.0})


def test_config_round_trip_with_every_argument():
    kwargs = _config_examples()["EarlyStopping"]
    names = set(inspect.signature(EarlyStopping.__init__).parameters)
    assert names - {"self"} == set(kwargs)
    stopper = EarlyStopping(**kwargs)
    config = stopper.get_config()
    assert config == kwargs
    assert json.loads(json.dumps(config)) == config
    clone = EarlyStopping.from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(stopper)
    )
    assert isinstance(restored, EarlyStopping)
    assert restored.get_config() == config


def test_default_config_is_keras_defaults():
    keras_defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(
            keras.callbacks.EarlyStopping.__init__
        ).parameters.items()
        if name != "self"
    }
    config = EarlyStopping().get_config()
    assert {name: config[name] for name in keras_defaults} == keras_defaults
    # Every rule beyond Keras's is off by default.
    assert {k: v for k, v in config.items() if k not in keras_defaults} == {
        "min_delta_mode": "absolute",
        "smoothing": None,
        "smoothing_window": 5,
        "check_finite": False,
        "stopping_threshold": None,
        "divergence_threshold": None,
        "criterion": None,
        "criterion_threshold": None,
        "strip_length": 5,
        "combine": "all",
        "save_best_to": None,
        "include_optimizer": False,
        "strict": False,
        "rules": None,
    }


# More stopping rules.


def test_relative_min_delta_in_stop_reason():
    stopper = EarlyStopping(
        patience=1, min_delta=0.01, min_delta_mode="relative"
    )
    drive(stopper, [1.0, 0.999])
    assert stopper.stop_reason == (
        "val_loss did not improve by more than 0.01 of its best for 1 epochs"
    )
    stopper = EarlyStopping(patience=1, min_delta=0.001)
    drive(stopper, [1.0, 0.9995])
    assert stopper.stop_reason == (
        "val_loss did not improve by more than 0.001 for 1 epochs"
    )


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_check_finite_stops_at_once_and_restores(bad):
    stopper = EarlyStopping(
        patience=10, check_finite=True, restore_best_weights=True
    )
    epochs = drive(stopper, [1.0, 0.5, bad, 0.1])
    assert epochs == 3
    assert stopper.stopped_epoch == 2
    assert stopper.stop_reason == f"val_loss is {bad}, not a finite number"
    assert stopper.model.get_weights() == 1


THRESHOLD_CASES = [
    # mode, curve, thresholds, epoch stopped, words in the reason
    ("min", [1.0, 0.5, 0.4], {"stopping_threshold": 0.45}, 2, "reached"),
    ("min", [1.0, 0.45, 0.4], {"stopping_threshold": 0.45}, 2, "reached"),
    ("min", [1.0, 1.5, 2.5], {"divergence_threshold": 2.0}, 2, "diverged"),
    ("max", [0.5, 0.95], {"stopping_threshold": 0.9}, 1, "reached"),
    ("max", [0.5, 0.1], {"divergence_threshold": 0.2}, 1, "diverged"),
    ("min", [0.1, 0.2], {"stopping_threshold": 0.2}, 0, "reached"),
]


def test_stopping_and_divergence_thresholds():
    for mode, curve, kwargs, stop, reason in THRESHOLD_CASES:
        stopper = EarlyStopping(patience=None, mode=mode, **kwargs)
        drive(stopper, curve + [curve[-1]] * 3)
        assert stopper.model.stop_training, (mode, curve, kwargs)
        assert stopper.stopped_epoch == stop, (mode, curve, kwargs)
        assert reason in stopper.stop_reason


def test_thresholds_off_run_to_the_end():
    stopper = EarlyStopping(
        patience=None, stopping_threshold=0.0, divergence_threshold=9.0
    )
    assert drive(stopper, [1.0, 5.0, 0.5, 8.9]) == 4
    assert stopper.stop_reason is None


@pytest.mark.parametrize("combine, stop", [("any", 3), ("all", 5)])
def test_several_monitors_combined(combine, stop):
    logs = [
        {"val_loss": loss, "val_acc": acc}
        for loss, acc in zip(
            [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99],
            [0.5, 0.6, 0.7, 0.71, 0.705, 0.70, 0.69],
            strict=True,
        )
    ]
    stopper = EarlyStopping(
        monitor=["val_loss", "val_acc"],
        mode=["min", "max"],
        patience=2,
        combine=combine,
        restore_best_weights=True,
    )
    drive(stopper, logs)
    assert stopper.stopped_epoch == stop
    assert stopper.best_epochs == {"val_loss": 1, "val_acc": 3}
    # The first monitored quantity decides the weights restored.
    assert stopper.best_epoch == 1
    assert stopper.model.get_weights() == 1
    assert stopper.stop_reason.startswith("val_loss did not improve")
    if combine == "all":
        assert stopper.stop_reason.endswith(
            "and val_acc did not improve for 2 epochs"
        )


def test_several_monitors_skip_an_epoch_with_a_key_missing():
    stopper = EarlyStopping(monitor=["val_loss", "val_acc"], mode="min")
    stopper.set_model(DummyModel())
    stopper.on_train_begin()
    with pytest.warns(UserWarning, match="`val_acc`"):
        stopper.on_epoch_end(0, {"val_loss": 1.0})
    assert stopper.best_values == {"val_loss": None, "val_acc": None}


def test_state_resumes_like_an_uninterrupted_run():
    curve = [1.0, 0.7, 0.8, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.0]

    def make():
        return EarlyStopping(
            patience=3, smoothing="exponential", smoothing_window=2
        )

    whole = make()
    drive(whole, curve)
    assert whole.stop_reason is not None

    first = make()
    first.set_model(DummyModel())
    first.on_train_begin()
    for epoch in range(4):
        first.on_epoch_end(epoch, {"val_loss": curve[epoch]})
    state = json.loads(json.dumps(first.get_state()))

    resumed = make()
    resumed.set_state(state)
    resume(resumed, curve, 4)
    assert resumed.get_state() == whole.get_state()

    with pytest.raises(ValueError, match="expects a dict from get_state"):
        EarlyStopping(monitor="loss").set_state(state)


# Never losing the best weights: real Keras models.


def _set_kernel_to_epoch(model, epoch):
    kernel = model.get_layer("dense").kernel
    kernel.assign(np.full(kernel.shape, float(epoch), "float32"))


def test_device_snapshot_restores_a_keras_model():
    model = tiny_model()
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    drive(
        stopper,
        [0.5, 0.3, 0.4, 0.45],
        model=model,
        set_epoch=_set_kernel_to_epoch,
    )
    assert isinstance(
        stopper.best_weights_store.memory_copy.snapshot, WeightSnapshot
    )
    np.testing.assert_array_equal(
        np.asarray(model.get_layer("dense").kernel), 1.0
    )
    np.testing.assert_array_equal(stopper.best_weights[0], 1.0)


@pytest.mark.slow
@pytest.mark.parametrize("include_optimizer", [False, True])
def test_fit_restores_after_running_out_of_epochs(include_optimizer):
    model = tiny_model()
    x, y = tiny_data()
    script = ScriptedLogs("val_loss", [0.5, 0.3, 0.4, 0.45])
    stopper = EarlyStopping(
        patience=10,
        restore_best_weights=True,
        include_optimizer=include_optimizer,
    )
    history = model.fit(
        x, y, epochs=4, batch_size=4, verbose=0, callbacks=[script, stopper]
    )
    assert len(history.epoch) == 4
    assert stopper.stop_reason is None
    assert_weights_equal(model.get_weights(), script.weights[1])
    optimizer_values = [np.asarray(v) for v in model.optimizer.variables]
    if include_optimizer:
        assert_weights_equal(optimizer_values, script.optimizer_values[1])
    else:
        assert_weights_equal(optimizer_values, script.optimizer_values[3])


@pytest.mark.compat("EarlyStopping", "TensorFlow")
@pytest.mark.slow
def test_fit_restores_after_early_stop():
    model = tiny_model()
    x, y = tiny_data()
    script = ScriptedLogs("val_loss", [0.5, 0.3, 0.4, 0.45, 0.5, 0.6])
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(
        x, y, epochs=6, batch_size=4, verbose=0, callbacks=[script, stopper]
    )
    assert len(history.epoch) == 4
    assert stopper.stopped_epoch == 3
    assert_weights_equal(model.get_weights(), script.weights[1])
    # The same instance serves a second fit with fresh state.
    script2 = ScriptedLogs("val_loss", [0.9, 0.2, 0.8, 0.85, 0.9, 0.95])
    model.fit(
        x, y, epochs=6, batch_size=4, verbose=0, callbacks=[script2, stopper]
    )
    assert stopper.best_value == 0.2
    assert_weights_equal(model.get_weights(), script2.weights[1])


class _NaNAtEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            kernel = self.model.get_layer("dense").kernel
            kernel.assign(np.full(kernel.shape, np.nan, "float32"))


@pytest.mark.slow
def test_fit_stops_on_nan_loss_and_restores():
    model = tiny_model()
    x, y = tiny_data()
    script = ScriptedLogs("loss", None)
    stopper = EarlyStopping(
        monitor="loss",
        patience=10,
        check_finite=True,
        restore_best_weights=True,
    )
    history = model.fit(
        x,
        y,
        epochs=8,
        batch_size=4,
        verbose=0,
        callbacks=[_NaNAtEpoch(3), script, stopper],
    )
    assert math.isnan(history.history["loss"][3])
    assert len(history.epoch) == 4
    assert stopper.stop_reason == "loss is nan, not a finite number"
    assert stopper.best_epoch == int(np.argmin(history.history["loss"][:3]))
    assert_weights_equal(
        model.get_weights(), script.weights[stopper.best_epoch]
    )
    assert all(np.isfinite(w).all() for w in model.get_weights())


@pytest.mark.slow
@pytest.mark.parametrize(
    "exception", [RuntimeError("boom"), KeyboardInterrupt()]
)
def test_restore_after_fit_ended_by_an_exception(exception, tmp_path):
    model = tiny_model()
    x, y = tiny_data()
    path = tmp_path / "best.weights.h5"
    script = ScriptedLogs(
        "val_loss", [0.5, 0.3, 0.4, 0.45], fail_at=3, exception=exception
    )
    stopper = EarlyStopping(
        patience=5, restore_best_weights=True, save_best_to=path
    )
    with pytest.raises(type(exception)):
        model.fit(
            x, y, epochs=4, batch_size=4, verbose=0, callbacks=[script, stopper]
        )
    # on_train_end never ran: the model holds epoch 2's weights.
    assert_weights_equal(model.get_weights(), script.weights[2])
    assert stopper.restore() is True
    assert_weights_equal(model.get_weights(), script.weights[1])
    # The file holds the best epoch too.
    fresh = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(2, name="dense")]
    )
    fresh.load_weights(path)
    assert_weights_equal(fresh.get_weights(), script.weights[1])
    np.testing.assert_array_equal(
        fresh.predict(x, verbose=0), model.predict(x, verbose=0)
    )


def test_restore_without_best_weights_returns_false():
    stopper = EarlyStopping()
    stopper.set_model(DummyModel())
    stopper.on_train_begin()
    assert stopper.restore() is False
    drive(stopper, [1.0, 0.5])
    assert stopper.restore() is False


def test_save_best_to_is_written_at_each_improvement(tmp_path):
    model = tiny_model()
    path = tmp_path / "best.weights.h5"
    stopper = EarlyStopping(patience=5, save_best_to=str(path))
    saved = []
    original = model.save_weights

    def recording_save(filepath, **kwargs):
        saved.append(os.path.basename(filepath))
        original(filepath, **kwargs)

    model.save_weights = recording_save
    drive(
        stopper,
        [0.5, 0.3, 0.4, 0.2, 0.6],
        model=model,
        set_epoch=_set_kernel_to_epoch,
    )
    # Three improvements, each through a temporary file then renamed.
    assert len(saved) == 3
    assert all(name.endswith(".tmp.weights.h5") for name in saved)
    assert os.listdir(tmp_path) == ["best.weights.h5"]
    fresh = tiny_model()
    fresh.load_weights(path)
    np.testing.assert_array_equal(
        np.asarray(fresh.get_layer("dense").kernel), 3.0
    )
    # Without restore_best_weights, restore() reads the file.
    assert stopper.restore() is True
    np.testing.assert_array_equal(
        np.asarray(model.get_layer("dense").kernel), 3.0
    )


def test_interrupted_write_leaves_the_previous_file_intact(tmp_path):
    model = tiny_model()
    path = tmp_path / "best.weights.h5"
    stopper = EarlyStopping(patience=5, save_best_to=path)
    stopper.set_model(model)
    stopper.on_train_begin()
    _set_kernel_to_epoch(model, 0)
    stopper.on_epoch_end(0, {"val_loss": 0.5})
    original = model.save_weights

    def interrupted_save(filepath, **kwargs):
        original(filepath, **kwargs)
        with open(filepath, "r+b") as handle:
            handle.truncate(100)  # a half-written file
        raise KeyboardInterrupt

    model.save_weights = interrupted_save
    _set_kernel_to_epoch(model, 1)
    with pytest.raises(KeyboardInterrupt):
        stopper.on_epoch_end(1, {"val_loss": 0.3})
    assert os.listdir(tmp_path) == ["best.weights.h5"]
    fresh = tiny_model()
    fresh.load_weights(path)
    np.testing.assert_array_equal(
        np.asarray(fresh.get_layer("dense").kernel), 0.0
    )


def test_resumed_run_restores_from_the_file(tmp_path):
    path = tmp_path / "best.weights.h5"
    model = tiny_model()
    first = EarlyStopping(
        patience=5, restore_best_weights=True, save_best_to=path
    )
    first.set_model(model)
    first.on_train_begin()
    for epoch, loss in enumerate([0.5, 0.3, 0.4]):
        _set_kernel_to_epoch(model, epoch)
        first.on_epoch_end(epoch, {"val_loss": loss})
    state = first.get_state()

    resumed = EarlyStopping(
        patience=5, restore_best_weights=True, save_best_to=path
    )
    resumed.set_state(state)
    resumed.set_model(model)
    resumed.on_train_begin()
    _set_kernel_to_epoch(model, 3)
    resumed.on_epoch_end(3, {"val_loss": 0.35})
    resumed.on_train_end()
    assert resumed.best_epoch == 1
    np.testing.assert_array_equal(
        np.asarray(model.get_layer("dense").kernel), 1.0
    )


_MIRRORED_SCRIPT = textwrap.dedent(
    """
    import os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    import keras
    import numpy as np
    import keras_regkit as rk

    class Script(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.weights = []

        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = [0.5, 0.3, 0.4, 0.45][epoch]
            self.weights.append(self.model.get_weights())

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        model.compile("adam", "mse")
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    script = Script()
    stopper = rk.callbacks.EarlyStopping(
        patience=2, restore_best_weights=True, include_optimizer=True
    )
    model.fit(x, x[:, :2], epochs=4, batch_size=8, verbose=0,
              callbacks=[script, stopper])
    assert stopper.stopped_epoch == 3
    copy = stopper.best_weights_store.snapshot.copies[0].value
    assert type(copy).__name__ == "MirroredVariable", type(copy)
    for variable, expected in zip(model.weights, script.weights[1]):
        replicas = variable.value.values
        assert len(replicas) == 2
        for replica in replicas:
            np.testing.assert_array_equal(np.asarray(replica), expected)
    print("mirrored ok")
    """
)


@pytest.mark.slow
@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="TensorFlow-specific: tf.distribute.MirroredStrategy",
)
@pytest.mark.new_process
def test_restores_mirrored_variables_under_mirrored_strategy():
    result = helpers.run_python(_MIRRORED_SCRIPT)
    assert "mirrored ok" in result.stdout


# Resuming in a new process (issue 19): the state holds no weights.

_RESUMED_PROCESS = """
    import json
    import warnings

    import keras
    import numpy as np

    import keras_regkit as rk

    LOSSES = [0.5, 0.3, 0.4, 0.45, 0.5]

    class EpochKernel(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            kernel = self.model.get_layer("dense").kernel
            kernel.assign(np.full(kernel.shape, float(epoch), "float32"))
            logs["loss"] = LOSSES[epoch]

    def resume(**kwargs):
        model = keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(2, name="dense")]
        )
        model.compile(keras.optimizers.SGD(0.0), "mse")
        stopper = rk.callbacks.EarlyStopping(
            monitor="loss", patience=10, restore_best_weights=True, **kwargs
        )
        with open(STATE) as handle:
            stopper.set_state(json.load(handle))
        x = np.zeros((4, 3), "float32")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(
                x, x[:, :2], epochs=5, initial_epoch=3, verbose=0,
                callbacks=[EpochKernel(), stopper],
            )
        kernel = keras.ops.convert_to_numpy(model.get_layer("dense").kernel)
        return {
            "kernel": float(kernel.flat[0]),
            "best_epoch": stopper.best_epoch,
            "warnings": [
                str(w.message) for w in caught
                if issubclass(w.category, UserWarning)
            ],
        }

    print(json.dumps({
        "memory": resume(),
        "file": resume(save_best_to=BEST),
        "missing": resume(save_best_to=MISSING),
    }))
"""


@pytest.mark.new_process
def test_resumed_in_a_new_process_restores_from_the_file_or_warns(tmp_path):
    best = tmp_path / "best.weights.h5"
    model = tiny_model()
    model.compile(keras.optimizers.SGD(0.0), "mse")
    stopper = EarlyStopping(
        monitor="loss",
        patience=10,
        restore_best_weights=True,
        save_best_to=best,
    )
    script = ScriptedLogs("loss", [0.5, 0.3, 0.4])
    setter = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: _set_kernel_to_epoch(model, epoch)
    )
    x = np.zeros((4, 3), "float32")
    model.fit(
        x, x[:, :2], epochs=3, verbose=0, callbacks=[setter, script, stopper]
    )
    assert stopper.best_epoch == 1
    state = tmp_path / "state.json"
    state.write_text(json.dumps(stopper.get_state()))

    code = (
        f"STATE = {str(state)!r}\n"
        f"BEST = {str(best)!r}\n"
        f"MISSING = {str(tmp_path / 'moved.weights.h5')!r}\n"
        + textwrap.dedent(_RESUMED_PROCESS)
    )
    result = helpers.run_python(code)
    runs = json.loads(result.stdout.strip().splitlines()[-1])

    # With the file: the best epoch of the first process comes back.
    assert runs["file"] == {"kernel": 1.0, "best_epoch": 1, "warnings": []}
    # Without it: the resumed fit cannot restore it, ends with its last
    # weights, and says so at its start, naming save_best_to.
    memory = runs["memory"]
    assert (memory["kernel"], memory["best_epoch"]) == (4.0, 1)
    assert len(memory["warnings"]) == 1, memory["warnings"]
    assert "best weights (epoch 2)" in memory["warnings"][0]
    assert "ends with its last weights" in memory["warnings"][0]
    assert "save_best_to=" in memory["warnings"][0]
    missing = runs["missing"]
    assert missing["kernel"] == 4.0
    assert len(missing["warnings"]) == 1, missing["warnings"]
    assert "moved.weights.h5', which does not exist" in missing["warnings"][0]
