"""GapMonitor: clean training metrics, signed gaps, keys seen downstream."""

import csv
import json

import keras
import numpy as np
import pytest

import keras_regkit as rk

to_numpy = keras.ops.convert_to_numpy


def data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, :3].sum(axis=1) > 0).astype("int32")
    return x, y


def classifier(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dropout(0.5, seed=1),
            keras.layers.Dense(2),
        ]
    )
    model.compile(
        keras.optimizers.Adam(0.01),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


class CheckAgainstEvaluate(keras.callbacks.Callback):
    """Listed after the monitor: evaluates its subset itself."""

    def __init__(self, monitor):
        super().__init__()
        self.monitor = monitor
        self.checked = 0

    def on_epoch_end(self, epoch, logs=None):
        x, y, _ = self.monitor.subset_data
        expected = self.model.evaluate(x, y, verbose=0, return_dict=True)
        for name in ("loss", "accuracy"):
            assert logs[f"train_clean_{name}"] == pytest.approx(
                expected[name], rel=1e-6
            )
        self.checked += 1


@pytest.mark.compat("GapMonitor", "TensorFlow")
@pytest.mark.compat("GapMonitor", "JAX")
@pytest.mark.compat("GapMonitor", "PyTorch")
def test_train_metric_equals_evaluate_on_the_subset_and_gap_signs():
    x, y = data()
    model = classifier()
    gap = rk.callbacks.GapMonitor((x[:64], y[:64]), subset=40, seed=3)
    checker = CheckAgainstEvaluate(gap)
    history = model.fit(
        x[:64],
        y[:64],
        validation_data=(x[64:], y[64:]),
        epochs=3,
        batch_size=16,
        verbose=0,
        callbacks=[gap, checker],
    )
    assert checker.checked == 3
    h = history.history
    np.testing.assert_allclose(
        h["gap_loss"],
        np.subtract(h["val_loss"], h["train_clean_loss"]),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        h["gap_accuracy"],
        np.subtract(h["train_clean_accuracy"], h["val_accuracy"]),
        rtol=1e-6,
    )
    # The clean metric is not fit's running average with dropout on.
    assert not np.allclose(h["train_clean_loss"], h["loss"])


def test_subset_is_fixed_seeded_and_bounded():
    x, y = data()
    a = rk.callbacks.GapMonitor((x, y), subset=10, seed=5)
    b = rk.callbacks.GapMonitor((x, y), subset=10, seed=5)
    c = rk.callbacks.GapMonitor((x, y), subset=10, seed=6)
    assert a.subset_data[0].shape == (10, 6)
    np.testing.assert_array_equal(a.subset_data[0], b.subset_data[0])
    assert not np.array_equal(a.subset_data[0], c.subset_data[0])
    # Rows of x, kept in order, labels aligned.
    rows = [
        int(np.flatnonzero((x == row).all(1))[0]) for row in a.subset_data[0]
    ]
    assert rows == sorted(rows)
    np.testing.assert_array_equal(a.subset_data[1], y[rows])
    whole = rk.callbacks.GapMonitor((x[:7], y[:7]), subset=100)
    assert len(whole.subset_data[0]) == 7


def test_dataset_subset_is_its_first_examples():
    # A tf.data pipeline: TensorFlow only (the JAX and PyTorch suites of
    # .ci/run run without it).
    tf = pytest.importorskip("tensorflow")
    x, y = data()
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    gap = rk.callbacks.GapMonitor(dataset, subset=20)
    model = classifier()
    gap.set_model(model)
    gap.on_train_begin()
    np.testing.assert_array_equal(gap.subset_data[0], x[:20])
    np.testing.assert_array_equal(gap.subset_data[1], y[:20])


def test_later_early_stopping_and_csv_logger_see_the_keys(tmp_path):
    x, y = data()
    model = classifier()
    gap = rk.callbacks.GapMonitor((x[:64], y[:64]), subset=32)
    # strict=True raises if the monitored key is missing from the logs.
    stopper = rk.callbacks.EarlyStopping(
        monitor="gap_loss", mode="min", patience=10, strict=True
    )
    path = tmp_path / "log.csv"
    model.fit(
        x[:64],
        y[:64],
        validation_data=(x[64:], y[64:]),
        epochs=2,
        verbose=0,
        callbacks=[gap, stopper, keras.callbacks.CSVLogger(str(path))],
    )
    assert len(stopper.monitor_history["gap_loss"]) == 2
    assert stopper.monitor_history["gap_loss"] == [
        record["gap_loss"] for record in gap.history
    ]
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["gap_loss"]) for r in rows] == pytest.approx(
        stopper.monitor_history["gap_loss"]
    )


def test_fit_metrics_are_not_disturbed():
    x, y = data()

    def run(callbacks):
        model = classifier(seed=7)
        history = model.fit(
            x[:64],
            y[:64],
            validation_data=(x[64:], y[64:]),
            epochs=3,
            batch_size=16,
            shuffle=False,
            verbose=0,
            callbacks=callbacks,
        )
        return history.history, [to_numpy(w) for w in model.weights]

    plain, plain_weights = run([])
    monitored, monitored_weights = run(
        [rk.callbacks.GapMonitor((x[:64], y[:64]), subset=32)]
    )
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert monitored[key] == plain[key], key
    for a, b in zip(plain_weights, monitored_weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_every_k_epochs_and_given_validation_data():
    x, y = data()
    model = classifier()
    gap = rk.callbacks.GapMonitor(
        (x[:64], y[:64]),
        validation_data=(x[64:], y[64:]),
        every=2,
        metrics=["loss"],
    )
    history = model.fit(x[:64], y[:64], epochs=4, verbose=0, callbacks=[gap])
    assert [record["epoch"] for record in gap.history] == [1, 3]
    assert len(history.history["gap_loss"]) == 2
    assert "train_clean_accuracy" not in history.history
    val = model.evaluate(x[64:], y[64:], verbose=0, return_dict=True)
    assert history.history["val_loss"][-1] == pytest.approx(val["loss"])


def test_no_validation_warns_once_and_logs_train_clean():
    x, y = data()
    model = classifier()
    gap = rk.callbacks.GapMonitor((x, y), subset=16)
    with pytest.warns(UserWarning, match="no checked epoch had validation"):
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[gap])
    assert len(history.history["train_clean_loss"]) == 2
    assert "gap_loss" not in history.history


def test_validation_freq_epochs_without_validation_do_not_warn():
    """fit validates epochs 1 and 3 only: gaps there, no warning at all.

    (``filterwarnings = error`` turns the old "fit has no validation_data"
    warning of epoch 0 into a failure.)
    """
    x, y = data()
    model = classifier()
    gap = rk.callbacks.GapMonitor((x[:64], y[:64]), subset=32)
    history = model.fit(
        x[:64],
        y[:64],
        validation_data=(x[64:], y[64:]),
        validation_freq=2,
        epochs=4,
        verbose=0,
        callbacks=[gap],
    )
    assert [r["epoch"] for r in gap.history if "gap_loss" in r] == [1, 3]
    assert [r["epoch"] for r in gap.history] == [0, 1, 2, 3]
    h = history.history
    np.testing.assert_allclose(
        h["gap_loss"],
        np.subtract(
            h["val_loss"], [r["train_clean_loss"] for r in gap.history][1::2]
        ),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        h["gap_accuracy"],
        np.subtract(
            [r["train_clean_accuracy"] for r in gap.history][1::2],
            h["val_accuracy"],
        ),
        rtol=1e-6,
    )


def negative_mse(y_true, y_pred):
    """A metric as a plain function: higher is better, no declared way."""
    y_true = keras.ops.cast(y_true, y_pred.dtype)
    return -keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)


def regressor():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=[negative_mse])
    return model


def test_metric_without_direction_raises_naming_mode():
    x, y = data()
    model = regressor()
    gap = rk.callbacks.GapMonitor((x[:64], y[:64]), subset=32)
    with pytest.raises(
        ValueError, match=r"argument `mode`.*'negative_mse'.*'max'"
    ):
        model.fit(
            x[:64],
            y[:64],
            validation_data=(x[64:], y[64:]),
            epochs=1,
            verbose=0,
            callbacks=[gap],
        )
    # Raised before anything was logged with a guessed sign.
    assert gap.history == []


def test_mode_gives_the_direction_of_a_plain_function_metric():
    x, y = data()
    model = regressor()
    gap = rk.callbacks.GapMonitor(
        (x[:64], y[:64]), subset=32, mode={"negative_mse": "max"}
    )
    history = model.fit(
        x[:64],
        y[:64],
        validation_data=(x[64:], y[64:]),
        epochs=2,
        verbose=0,
        callbacks=[gap],
    )
    h = history.history
    expected = np.subtract(h["train_clean_negative_mse"], h["val_negative_mse"])
    assert np.all(np.abs(expected) > 1e-4)  # the sign is visible
    np.testing.assert_allclose(h["gap_negative_mse"], expected, rtol=1e-6)
    # The loss keeps its inferred direction.
    np.testing.assert_allclose(
        h["gap_loss"],
        np.subtract(h["val_loss"], h["train_clean_loss"]),
        rtol=1e-6,
    )


def test_config_round_trip_keeps_mode():
    x, y = data()
    gap = rk.callbacks.GapMonitor((x, y), mode={"f1": "max"}, every=2)
    config = gap.get_config()
    assert config["mode"] == {"f1": "max"}
    assert json.loads(json.dumps(config)) == config
    clone = rk.callbacks.GapMonitor.from_config(config)
    assert clone.get_config() == config
    assert rk.callbacks.GapMonitor().get_config()["mode"] == "auto"


def test_unknown_metric_and_missing_data_raise_naming_the_argument():
    x, y = data()
    model = classifier()
    gap = rk.callbacks.GapMonitor((x, y), subset=8, metrics=["auc"])
    with pytest.raises(ValueError, match=r"argument `metrics`.*accuracy"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[gap])
    unset = rk.callbacks.GapMonitor.from_config(
        rk.callbacks.GapMonitor((x, y)).get_config()
    )
    with pytest.raises(ValueError, match="argument `train_data`"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[unset])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"subset": 0}, ValueError, "subset"),
        ({"every": 0}, ValueError, "every"),
        ({"metrics": [1]}, TypeError, "metrics"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"train_data": (np.zeros(3),)}, ValueError, "train_data"),
        ({"mode": "max"}, ValueError, "mode"),
        ({"mode": ["max"]}, TypeError, "mode"),
        ({"mode": {"f1": "up"}}, ValueError, "mode"),
        ({"mode": {"": "max"}}, TypeError, "mode"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=f"GapMonitor: .*argument `{match}`"):
        rk.callbacks.GapMonitor(**kwargs)
