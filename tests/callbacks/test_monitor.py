"""Tests for the monitor of a quantity (`callbacks.early_stopping.monitor`).

Driven through `EarlyStopping`, which owns one `Monitor` per monitored
quantity: the direction inferred as Keras infers it, ``min_delta``
(absolute and relative), smoothing, and non-finite values.
"""

import math

import keras
import numpy as np
import pytest
from callbacks.stopping_helpers import drive

import keras_regkit as rk

EarlyStopping = rk.callbacks.EarlyStopping


def tiny_data(n=16):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, (x @ np.ones((3, 2), "float32")) * 0.5


@pytest.mark.slow
def test_mode_inference_matches_keras():
    x, y = tiny_data(10)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(1, activation="relu"),
            keras.layers.Dense(1, activation="relu"),
        ]
    )
    model.compile(
        loss="mae",
        optimizer="adam",
        metrics=[
            "mse",
            "acc",
            "accuracy",
            "hinge",
            keras.metrics.F1Score(name="f1_score"),
            keras.metrics.AUC(name="auc"),
        ],
    )
    cases = [
        ("max", "val_mse", "max"),
        ("min", "val_loss", "min"),
        ("auto", "val_mse", "min"),
        ("auto", "loss", "min"),
        ("auto", "acc", "max"),
        ("auto", "val_accuracy", "max"),
        ("auto", "hinge", "min"),
        ("auto", "f1_score", "max"),
        ("auto", "val_auc", "max"),
    ]
    for mode, monitor, expected in cases:
        stopper = EarlyStopping(patience=0, monitor=monitor, mode=mode)
        model.fit(
            x,
            y[:, :1],
            batch_size=5,
            validation_data=(x, y[:, :1]),
            callbacks=[stopper],
            epochs=2,
            verbose=0,
        )
        assert stopper.directions == {monitor: expected}, monitor
        expected_op = keras.ops.greater if expected == "max" else keras.ops.less
        assert stopper.monitor_op is expected_op
    with pytest.raises(ValueError, match="cannot determine whether"):
        model.fit(
            x,
            y[:, :1],
            batch_size=5,
            callbacks=[EarlyStopping(monitor="unknown")],
            epochs=2,
            verbose=0,
        )


def test_min_delta_absolute_and_relative():
    curve = [10.0, 9.5, 8.9, 8.5]
    absolute = EarlyStopping(patience=5, min_delta=0.1)
    drive(absolute, curve)
    assert absolute.best_epoch == 3
    relative = EarlyStopping(
        patience=5, min_delta=0.1, min_delta_mode="relative"
    )
    drive(relative, curve)
    # 9.5 is not below 10 - 1.0; 8.9 is; 8.5 is not below 8.9 - 0.89.
    assert relative.best_epoch == 2
    assert relative.waits == {"val_loss": 1}
    up = EarlyStopping(
        "acc", patience=5, min_delta=0.1, min_delta_mode="relative", mode="max"
    )
    drive(up, [0.5, 0.54, 0.56], key="acc")
    assert up.best_epoch == 2


def test_moving_average_smoothing_changes_the_decision():
    curve = [1.0, 0.6, 0.9, 0.7, 0.8, 0.75, 0.85, 0.9]
    raw = EarlyStopping(patience=2)
    drive(raw, curve)
    assert raw.stopped_epoch == 3
    smoothed = EarlyStopping(
        patience=2, smoothing="moving_average", smoothing_window=3
    )
    drive(smoothed, curve)
    values = np.array(curve)
    expected = [values[max(0, t - 2) : t + 1].mean() for t in range(6)]
    np.testing.assert_allclose(
        smoothed.monitor_history["val_loss_smoothed"], expected
    )
    assert smoothed.monitor_history["val_loss"] == curve[:6]
    assert smoothed.stopped_epoch == 5
    assert smoothed.best_epoch == 3
    assert smoothed.best_value == pytest.approx(np.mean(curve[1:4]))


def test_exponential_smoothing_matches_formula():
    curve = [1.0, 0.2, 0.8, 0.4, 0.7, 0.5]
    stopper = EarlyStopping(
        patience=None, smoothing="exponential", smoothing_window=3
    )
    drive(stopper, curve)
    alpha = 2 / (3 + 1)
    expected = [curve[0]]
    for value in curve[1:]:
        expected.append(alpha * value + (1 - alpha) * expected[-1])
    np.testing.assert_allclose(
        stopper.monitor_history["val_loss_smoothed"], expected
    )
    assert stopper.stop_reason is None


def test_non_finite_is_never_an_improvement():
    stopper = EarlyStopping(patience=10)
    drive(stopper, [math.nan, -math.inf, 0.9, math.nan, 0.8])
    assert stopper.best_epoch == 4
    assert stopper.best_value == 0.8
