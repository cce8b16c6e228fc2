"""Tests for Prechelt's GL, PQ and UP (`callbacks.early_stopping.prechelt`).

Their pure functions against numpy, the rules driven directly (a `Monitor`
bound by hand) and through `EarlyStopping`'s ``criterion`` keyword, with
the first stopping epoch computed in numpy.
"""

import math

import numpy as np
import pytest
from callbacks.stopping_helpers import DummyModel
from callbacks.stopping_helpers import drive

import keras_regkit as rk
from keras_regkit.callbacks import early_stopping as es
from keras_regkit.callbacks.early_stopping import prechelt
from keras_regkit.callbacks.early_stopping.monitor import Monitor

EarlyStopping = rk.callbacks.EarlyStopping


class _Metric:
    def __init__(self, name, direction):
        self.name = name
        self._direction = direction


def test_criterion_on_maximised_metric_raises_at_first_epoch():
    stopper = EarlyStopping(
        monitor="val_accuracy", criterion="GL", criterion_threshold=5
    )
    model = DummyModel()
    model.metrics = [_Metric("accuracy", "up")]
    stopper.set_model(model)
    stopper.on_train_begin()
    with pytest.raises(
        ValueError, match="argument `mode`.*minimise.*val_accuracy is maximised"
    ):
        stopper.on_epoch_end(0, {"val_accuracy": 0.5})


def _first_stop(values, alpha, rule, k=None, train=None):
    """The first epoch at which a Prechelt rule fires, in numpy."""
    values = np.asarray(values)
    gl = 100 * (values / np.minimum.accumulate(values) - 1)
    for t in range(len(values)):
        if rule == "GL" and gl[t] > alpha:
            return t
        if rule != "GL" and (t + 1) % k == 0:
            strip = np.asarray(train[t + 1 - k : t + 1])
            progress = 1000 * (strip.sum() / (k * strip.min()) - 1)
            if gl[t] / progress > alpha:
                return t
    return None


def test_prechelt_gl():
    curve = [1.0, 0.8, 0.85, 0.9, 0.7]
    expected = _first_stop(curve, 10.0, "GL")
    assert expected == 3
    stopper = EarlyStopping(
        patience=None, criterion="GL", criterion_threshold=10
    )
    model = DummyModel()
    drive(stopper, curve, model=model)
    assert model.stop_training
    assert stopper.stopped_epoch == expected
    assert "GL = 12.5% exceeded 10%" in stopper.stop_reason


def test_prechelt_pq_uses_training_progress():
    val = [1.0, 0.9, 0.85, 0.86, 0.88, 0.9, 0.95, 1.0]
    train = [1.0, 0.8, 0.7, 0.65, 0.62, 0.61, 0.605, 0.603]
    expected = _first_stop(val, 0.5, "PQ", k=2, train=train)
    assert expected == 5
    # GL alone (> 0.5%) would have stopped earlier, at epoch 3.
    assert _first_stop(val, 0.5, "GL") == 3
    stopper = EarlyStopping(
        patience=None, criterion="PQ", criterion_threshold=0.5, strip_length=2
    )
    logs = [{"val_loss": v, "loss": t} for v, t in zip(val, train, strict=True)]
    drive(stopper, logs)
    assert stopper.stopped_epoch == expected
    assert stopper.monitor_history["loss"] == train[: expected + 1]
    assert "Prechelt's PQ criterion" in stopper.stop_reason


def test_prechelt_pq_needs_the_training_loss():
    stopper = EarlyStopping(criterion="PQ", criterion_threshold=1.0)
    stopper.set_model(DummyModel())
    stopper.on_train_begin()
    with pytest.warns(UserWarning, match="`loss` which is not available"):
        stopper.on_epoch_end(0, {"val_loss": 1.0})


def test_prechelt_up():
    # Strip ends (k=2): 0.9, 0.7, 0.72, 0.78, 0.9 -> rises at epochs 5, 7.
    curve = [1.0, 0.9, 0.8, 0.7, 0.75, 0.72, 0.74, 0.78, 0.8, 0.9]
    stopper = EarlyStopping(
        patience=None, criterion="UP", criterion_threshold=2, strip_length=2
    )
    drive(stopper, curve)
    assert stopper.stopped_epoch == 7
    assert stopper.stop_reason == (
        "val_loss rose in 2 successive strips of 2 epochs "
        "(Prechelt's UP criterion)"
    )


def test_prechelt_functions_against_numpy():
    strip = [0.9, 0.7, 0.8]
    assert prechelt.training_progress(strip) == pytest.approx(
        1000 * (np.sum(strip) / (3 * np.min(strip)) - 1)
    )
    assert prechelt.generalization_loss(1.2, 1.0) == pytest.approx(20.0)
    assert prechelt.generalization_loss(0.0, 0.0) == 0.0
    assert prechelt.generalization_loss(0.1, 0.0) == math.inf
    assert prechelt.training_progress([0.0, 1.0]) == math.inf
    assert prechelt.rising_strips([1.0, 2.0, 1.0]) == 0
    assert prechelt.rising_strips([1.0]) == 0


def test_progress_quotient_reads_the_training_loss():
    rule = es.ProgressQuotient(0.5, strip_length=2, training_loss="tr")
    assert rule.required_keys() == ("tr",)
    monitor = Monitor("val_loss", mode="min")
    rule.bind({"val_loss": monitor}, "val_loss")
    val = [1.0, 0.9, 0.85, 0.86, 0.88, 0.9]
    train = [1.0, 0.8, 0.7, 0.65, 0.62, 0.61]
    reasons = []
    for epoch, (v, t) in enumerate(zip(val, train, strict=True)):
        monitor.observe(epoch, v)
        reasons.append(rule.update(epoch, {"val_loss": v, "tr": t}))
    # At epoch 5 (a strip end): GL = 100 (0.9 / 0.85 - 1), P_2 over the
    # last two training losses, in numpy.
    gl = 100 * (0.9 / 0.85 - 1)
    strip = np.array(train[4:6])
    progress = 1000 * (strip.sum() / (2 * strip.min()) - 1)
    assert gl / progress > 0.5
    assert [r is not None for r in reasons] == [False] * 5 + [True]
    assert f"{gl / progress:.4g}" in reasons[-1]


def test_prechelt_rules_refuse_a_maximised_quantity():
    with pytest.raises(ValueError, match="argument `mode`.*minimise"):
        es.UpStrips(2).bind({"acc": Monitor("acc", mode="max")}, "acc")
