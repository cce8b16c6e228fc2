"""Tests for the pieces EarlyStopping is built from.

Stopping rules driven directly (a `Monitor` bound by hand, synthetic
curves), `rules=` on EarlyStopping (its equivalence with the keywords, a
user-written rule, config) and Keras's assignable attributes. Prechelt's
criteria are in test_prechelt.py, stop reasons in test_stop_reason.py.
"""

import json
import math

import keras
import numpy as np
import pytest
from callbacks.stopping_helpers import DummyModel
from callbacks.stopping_helpers import driven

import keras_regkit as rk
from keras_regkit.callbacks import early_stopping as es
from keras_regkit.callbacks.early_stopping.monitor import Monitor
from keras_regkit.callbacks.early_stopping.reason import StopKind
from keras_regkit.callbacks.early_stopping.reason import StopReason

EarlyStopping = rk.callbacks.EarlyStopping


def run_rule(rule, curve, mode="min", **monitor_kwargs):
    """Feeds a curve to one rule; returns (epoch, reason) of its stop."""
    monitor = Monitor("val_loss", mode=mode, **monitor_kwargs)
    rule.bind({"val_loss": monitor}, "val_loss")
    rule.reset()
    for epoch, value in enumerate(curve):
        monitor.observe(epoch, value)
        reason = rule.update(epoch, {"val_loss": value, "loss": 1.0})
        if reason is not None:
            return epoch, reason
    return None, None


# Each rule alone, with the kind of its reason.

RULE_CASES = [
    # rule, curve, mode, epoch stopped, kind
    (es.Patience(2), [1.0, 0.5, 0.6, 0.7], "min", 3, StopKind.PATIENCE),
    (es.Patience(0), [1.0, 1.1], "min", 1, StopKind.PATIENCE),
    (es.StoppingThreshold(0.45), [1.0, 0.4], "min", 1, StopKind.THRESHOLD),
    (es.StoppingThreshold(0.9), [0.5, 0.95], "max", 1, StopKind.THRESHOLD),
    (es.DivergenceThreshold(2.0), [1.0, 2.5], "min", 1, StopKind.DIVERGENCE),
    (es.NonFinite(), [1.0, math.nan], "min", 1, StopKind.NON_FINITE),
    (es.NonFinite(), [1.0, -math.inf], "min", 1, StopKind.NON_FINITE),
    (
        es.GeneralizationLoss(10.0),
        [1.0, 0.8, 0.85, 0.9],
        "min",
        3,  # 0.9 / 0.8 - 1 = 12.5% > 10%; 0.85 gives 6.25%
        StopKind.CRITERION,
    ),
    (
        es.UpStrips(2, strip_length=2),
        [1.0, 0.9, 0.8, 0.7, 0.75, 0.72, 0.74, 0.78],
        "min",
        7,
        StopKind.CRITERION,
    ),
]


def test_each_rule_stops_where_expected_with_its_kind():
    for rule, curve, mode, stop, kind in RULE_CASES:
        epoch, reason = run_rule(rule, curve, mode)
        assert epoch == stop, (type(rule).__name__, curve)
        assert isinstance(reason, StopReason) and reason.kind is kind
        # The same rule object serves a second run after reset().
        assert run_rule(rule, curve, mode)[0] == stop


def test_rule_arguments_are_typed_per_rule():
    with pytest.raises(TypeError, match="UpStrips: .*`strips`.*an integer"):
        es.UpStrips(1.5)
    with pytest.raises(ValueError, match="GeneralizationLoss: .*`alpha`"):
        es.GeneralizationLoss(0.0)
    with pytest.raises(ValueError, match="Patience: .*`patience`.*>= 0"):
        es.Patience(-1)
    with pytest.raises(ValueError, match="Patience: .*`monitor`.*non-empty"):
        es.Patience(1, monitor="")
    with pytest.raises(ValueError, match="ProgressQuotient: .*`training_loss`"):
        es.ProgressQuotient(1.0, training_loss="")
    with pytest.raises(TypeError, match="NonFinite: .*`monitor`"):
        es.NonFinite(monitor=3)
    with pytest.raises(TypeError, match="AnyOf: .*`rules`"):
        es.AnyOf([])
    with pytest.raises(TypeError, match="AllOf: .*`rules`"):
        es.AllOf(["patience"])


def test_any_of_and_all_of_update_every_rule():
    # Patience(1) fires at epoch 2; a threshold of 0.45 at epoch 3, one
    # of 0.7 at epochs 1, 2 and 3.
    curve = [1.0, 0.5, 0.6, 0.3]
    any_rule = es.AnyOf([es.Patience(1), es.StoppingThreshold(0.45)])
    epoch, reason = run_rule(any_rule, curve)
    assert epoch == 2 and reason.kind is StopKind.PATIENCE
    all_rule = es.AllOf([es.StoppingThreshold(0.7), es.Patience(1)])
    epoch, reason = run_rule(all_rule, curve)
    assert epoch == 2 and reason.kind is StopKind.THRESHOLD
    assert reason == (
        "val_loss reached the stopping threshold 0.7 (0.6) and "
        "val_loss did not improve for 1 epochs"
    )


# EarlyStopping(rules=...): the same decisions as the keywords.

CURVES = [
    [1.0, 0.7, 0.8, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.0],
    [1.0, 0.9, 0.85, 0.86, 0.88, 0.9, 0.95, 1.0, 1.1, 1.2],
    [0.5, math.nan, 0.4, 0.45, 0.5, 0.55],
]


@pytest.mark.parametrize(
    "keywords, rules",
    [
        ({"patience": 2}, [es.Patience(2)]),
        (
            {"patience": 3, "check_finite": True, "stopping_threshold": 0.41},
            [es.NonFinite(), es.StoppingThreshold(0.41), es.Patience(3)],
        ),
        (
            {"patience": None, "criterion": "GL", "criterion_threshold": 5},
            [es.GeneralizationLoss(5.0)],
        ),
        (
            {
                "patience": None,
                "criterion": "UP",
                "criterion_threshold": 2,
                "strip_length": 2,
            },
            [es.UpStrips(2, strip_length=2)],
        ),
    ],
)
def test_rules_argument_matches_the_keywords(keywords, rules):
    for curve in CURVES:
        logs = [{"val_loss": v} for v in curve]
        by_keywords = driven(EarlyStopping(**keywords), logs)
        by_rules = driven(EarlyStopping(rules=rules), logs)
        assert by_rules.stopped_epoch == by_keywords.stopped_epoch
        assert by_rules.stop_reason == by_keywords.stop_reason
        if by_rules.stop_reason is not None:
            assert by_rules.stop_reason.kind == by_keywords.stop_reason.kind


@pytest.mark.parametrize(
    "combine, rule", [("all", es.AllOf), ("any", es.AnyOf)]
)
def test_combine_keyword_is_a_combinator(combine, rule):
    logs = [
        {"val_loss": loss, "val_acc": acc}
        for loss, acc in zip(
            [1.0, 0.9, 0.95, 0.96, 0.97, 0.98],
            [0.5, 0.6, 0.7, 0.71, 0.705, 0.70],
            strict=True,
        )
    ]
    by_keywords = driven(
        EarlyStopping(
            ["val_loss", "val_acc"],
            patience=2,
            mode=["min", "max"],
            combine=combine,
        ),
        logs,
    )
    by_rules = driven(
        EarlyStopping(
            ["val_loss", "val_acc"],
            mode=["min", "max"],
            rules=[
                rule(
                    [
                        es.Patience(2, monitor="val_loss"),
                        es.Patience(2, monitor="val_acc"),
                    ]
                )
            ],
        ),
        logs,
    )
    assert by_rules.stopped_epoch == by_keywords.stopped_epoch > 0
    assert by_rules.stop_reason == by_keywords.stop_reason


class StopAbove(es.StoppingRule):
    """A user rule: stop when a logged key goes above a limit."""

    def __init__(self, limit, monitor=None):
        super().__init__(monitor)
        self.limit = limit
        self.seen = 0

    def reset(self):
        self.seen = 0

    def update(self, epoch, values):
        self.seen += 1
        if self.monitored.value > self.limit:
            return f"{self.monitored.name} went above {self.limit}"
        return None

    def get_state(self):
        return {"seen": self.seen}

    def set_state(self, state):
        self.seen = state["seen"]


def test_a_user_rule_on_a_second_monitored_quantity():
    logs = [{"val_loss": 1.0, "grad_norm": g} for g in [1.0, 2.0, 9.0, 1.0]]
    rules = [es.Patience(5), StopAbove(5.0, monitor="grad_norm")]
    with pytest.raises(ValueError, match="add 'grad_norm' to `monitor`"):
        EarlyStopping(rules=rules)
    stopper = EarlyStopping(
        ["val_loss", "grad_norm"],
        mode=["min", "max"],
        rules=rules,
        restore_best_weights=True,
    )
    driven(stopper, logs)
    assert stopper.stopped_epoch == 2
    # A plain string from a user rule becomes a custom StopReason.
    assert stopper.stop_reason == "grad_norm went above 5.0"
    assert stopper.stop_reason.kind is StopKind.CUSTOM
    assert stopper.monitor_history["grad_norm"] == [1.0, 2.0, 9.0]
    # The primary quantity still decides the weights kept.
    assert stopper.primary.name == "val_loss" and stopper.best_epoch == 0
    state = json.loads(json.dumps(stopper.get_state()))
    assert state["rule"]["rules"][1] == {"seen": 3}


def test_rules_and_rule_keywords_are_exclusive():
    with pytest.raises(ValueError, match="`check_finite`.*when `rules`"):
        EarlyStopping(check_finite=True, rules=[es.Patience(1)])
    with pytest.raises(ValueError, match="`patience`.*its default"):
        EarlyStopping(patience=3, rules=[es.Patience(1)])
    with pytest.raises(TypeError, match="`rules`.*StoppingRule"):
        EarlyStopping(rules=["patience"])


def test_rules_config_round_trip():
    stopper = EarlyStopping(
        monitor="val_loss",
        rules=[
            es.AnyOf([es.Patience(4, baseline=0.3), es.NonFinite()]),
            es.ProgressQuotient(0.5, strip_length=3),
        ],
        smoothing="exponential",
    )
    config = stopper.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(stopper)
    )
    assert clone.get_config() == config
    inner = clone.rules[0].rules[0]
    assert isinstance(inner, es.Patience)
    assert (inner.patience, inner.baseline) == (4, 0.3)
    assert clone.rules[1].required_keys() == ("loss",)


# Keras's attributes, assigned by user code, with Keras's meaning.


def test_assigned_best_is_the_reference_for_the_next_epoch():
    stopper = EarlyStopping(monitor="loss", patience=1)
    stopper.set_model(DummyModel())
    stopper.on_train_begin()
    stopper.on_epoch_end(0, {"loss": 1.0})
    stopper.best = 0.1
    stopper.on_epoch_end(1, {"loss": 0.5})  # not better than 0.1
    assert stopper.best == 0.1 and stopper.wait == 1
    assert stopper.model.stop_training and stopper.stopped_epoch == 1


def test_assigned_wait_counts_towards_patience():
    stopper = EarlyStopping(monitor="loss", patience=3)
    stopper.set_model(DummyModel())
    stopper.on_train_begin()
    stopper.on_epoch_end(0, {"loss": 1.0})
    stopper.wait = 2
    stopper.on_epoch_end(1, {"loss": 1.5})
    assert stopper.wait == 3 and stopper.model.stop_training
    assert stopper.waits == {"loss": 3}


def test_assigned_best_weights_are_restored_at_train_end():
    stopper = EarlyStopping(monitor="loss", restore_best_weights=True)
    model = DummyModel()
    stopper.set_model(model)
    stopper.on_train_begin()
    stopper.on_epoch_end(0, {"loss": 1.0})
    stopper.best_weights = "hand-picked"
    stopper.best_epoch = 7
    assert stopper.best_weights == "hand-picked" and stopper.best_epoch == 7
    stopper.on_train_end()
    assert model.weights == "hand-picked"
    stopper.on_train_begin()
    assert stopper.best_weights is None and stopper.best_epoch == 0
    assert stopper.best is None and stopper.wait == 0


def test_keras_model_best_weights_are_numpy_and_assignable():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    stopper = EarlyStopping(monitor="loss", restore_best_weights=True)
    stopper.set_model(model)
    stopper.on_train_begin()
    stopper.on_epoch_end(0, {"loss": 1.0})
    kept = stopper.best_weights
    assert all(isinstance(w, np.ndarray) for w in kept)
    zeros = [np.zeros_like(w) for w in kept]
    stopper.best_weights = zeros
    stopper.on_train_end()
    for weight in model.get_weights():
        np.testing.assert_array_equal(weight, 0.0)
