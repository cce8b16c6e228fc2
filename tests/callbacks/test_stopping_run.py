"""Tests for `StoppingRun` and `keywords.keyword_rules`, without Keras hooks.

The run is driven with synthetic logs (no model, no callback): each
expected stopping epoch is computed in numpy next to the curve. The
keyword function is checked alone: which rules, in which order, with
which configuration.
"""

import json
import math

import numpy as np
import pytest

from keras_regkit.callbacks import early_stopping as es
from keras_regkit.callbacks.early_stopping.keywords import keyword_rules
from keras_regkit.callbacks.early_stopping.monitor import Monitor


def observe_all(run, logs_per_epoch):
    """Feeds every epoch to the run; returns the first reason's epoch."""
    for epoch, logs in enumerate(logs_per_epoch):
        if run.observe(epoch, logs) is not None:
            return epoch
    return None


def first_patience_stop(curve, patience):
    """The epoch at which Keras's patience rule stops, in numpy."""
    curve = np.asarray(curve)
    best_epoch = 0
    for epoch in range(1, len(curve)):
        if curve[epoch] < curve[best_epoch]:
            best_epoch = epoch
        elif epoch - best_epoch >= patience:
            return epoch
    return None


@pytest.mark.parametrize("patience", [1, 2, 3])
def test_observe_stops_where_numpy_says(patience):
    curve = [1.0, 0.7, 0.8, 0.6, 0.65, 0.7, 0.75, 0.5]
    run = es.StoppingRun([Monitor("val_loss")], es.Patience(patience))
    stopped = observe_all(run, [{"val_loss": v} for v in curve])
    expected = first_patience_stop(curve, patience)
    assert stopped == expected
    assert run.stopped_epoch == expected
    assert run.stop_reason.kind is es.StopKind.PATIENCE
    assert run.primary.best == min(curve[: expected + 1])
    assert run.history["val_loss"] == curve[: expected + 1]


def test_observe_without_a_rule_only_records():
    run = es.StoppingRun([Monitor("loss")])
    assert observe_all(run, [{"loss": v} for v in [3.0, 1.0, 2.0]]) is None
    assert run.primary.best_epoch == 1 and run.stop_reason is None
    assert run.history == {"epoch": [0, 1, 2], "loss": [3.0, 1.0, 2.0]}


def test_observe_reports_each_epoch_improvement_of_the_primary():
    run = es.StoppingRun(
        [Monitor("val_loss"), Monitor("val_auc", mode="max")],
        es.AnyOf([es.Patience(5, monitor="val_auc")]),
    )
    improved = []
    for epoch, (loss, auc) in enumerate([(1.0, 0.5), (0.9, 0.4), (0.95, 0.6)]):
        run.observe(epoch, {"val_loss": loss, "val_auc": auc})
        improved.append(run.improved)
    assert improved == [True, True, False]
    assert run.monitors["val_auc"].best_epoch == 2


def test_epochs_before_start_and_missing_keys_are_not_observed():
    run = es.StoppingRun(
        [Monitor("val_loss")], es.Patience(1), start_from_epoch=2
    )
    assert run.observe(0, {"val_loss": 0.1}) is None
    assert run.observe(1, {"val_loss": 0.1}) is None
    with pytest.warns(UserWarning, match="Available metrics are: loss"):
        assert run.observe(2, {"loss": 0.1}) is None
    assert run.history["epoch"] == [] and not run.improved
    strict = es.StoppingRun([Monitor("val_loss")], strict=True)
    with pytest.raises(ValueError, match="metric `val_loss`"):
        strict.observe(0, {"loss": 0.1})


def test_the_rule_reads_keys_beyond_the_monitors():
    run = es.StoppingRun(
        [Monitor("val_loss")], es.ProgressQuotient(0.5, strip_length=2)
    )
    assert run.needed_keys == ["val_loss", "loss"]
    with pytest.warns(UserWarning, match="metric `loss`"):
        run.observe(0, {"val_loss": 1.0})


def test_a_non_finite_value_stops_at_once():
    run = es.StoppingRun([Monitor("loss")], es.NonFinite())
    stopped = observe_all(run, [{"loss": v} for v in [1.0, 0.5, math.nan]])
    assert stopped == 2 and run.stop_reason.kind is es.StopKind.NON_FINITE
    assert run.primary.best == 0.5


def test_state_round_trip_continues_like_an_uninterrupted_run():
    curve = [1.0, 0.7, 0.8, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.0]

    def make():
        return es.StoppingRun(
            [Monitor("val_loss", smoothing="exponential", smoothing_window=2)],
            es.AnyOf([es.UpStrips(3, strip_length=2), es.Patience(3)]),
        )

    whole = make()
    whole_stop = observe_all(whole, [{"val_loss": v} for v in curve])
    first = make()
    observe_all(first, [{"val_loss": v} for v in curve[:5]])
    resumed = make()
    resumed.set_state(json.loads(json.dumps(first.get_state())))
    stopped = None
    for epoch in range(5, len(curve)):
        if resumed.observe(epoch, {"val_loss": curve[epoch]}) is not None:
            stopped = epoch
            break
    assert stopped == whole_stop
    assert resumed.get_state() == whole.get_state()


def test_set_state_refuses_another_runs_state():
    run = es.StoppingRun([Monitor("loss")], es.Patience(1), owner="Stopper")
    other = es.StoppingRun([Monitor("val_loss")], es.Patience(1))
    with pytest.raises(ValueError, match=r"Stopper\.set_state\(\) expects"):
        run.set_state(other.get_state())


def test_an_auto_mode_needs_a_model_unless_it_is_a_loss():
    run = es.StoppingRun([Monitor("val_accuracy", owner="Stopper")])
    with pytest.raises(ValueError, match="Stopper received monitor="):
        run.observe(0, {"val_accuracy": 0.5})


# keyword_rules: the pure function from Keras's keywords to rules.


def configs(rules):
    return [(type(r).__name__, r.get_config()) for r in rules]


def test_keras_defaults_build_one_patience_rule():
    assert configs(keyword_rules(["val_loss"])) == [
        ("Patience", {"monitor": "val_loss", "patience": 0, "baseline": None})
    ]
    assert keyword_rules(["val_loss"], patience=None) == []


def test_every_keyword_in_the_order_rules_are_checked():
    rules = keyword_rules(
        ["val_loss"],
        patience=4,
        baseline=0.5,
        check_finite=True,
        stopping_threshold=0.01,
        divergence_threshold=10.0,
        criterion="UP",
        criterion_threshold=2,
        strip_length=3,
    )
    assert configs(rules) == [
        ("NonFinite", {"monitor": "val_loss"}),
        ("StoppingThreshold", {"monitor": None, "threshold": 0.01}),
        ("DivergenceThreshold", {"monitor": None, "threshold": 10.0}),
        ("UpStrips", {"monitor": None, "strips": 2, "strip_length": 3}),
        ("Patience", {"monitor": "val_loss", "patience": 4, "baseline": 0.5}),
    ]


@pytest.mark.parametrize(
    "combine, combinator", [("all", es.AllOf), ("any", es.AnyOf)]
)
def test_several_monitors_combine_their_patience(combine, combinator):
    (rule,) = keyword_rules(
        ["val_loss", "val_auc"], patience=2, baseline=0.3, combine=combine
    )
    assert type(rule) is combinator
    assert configs(rule.rules) == [
        ("Patience", {"monitor": "val_loss", "patience": 2, "baseline": 0.3}),
        ("Patience", {"monitor": "val_auc", "patience": 2, "baseline": None}),
    ]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"criterion_threshold": 1.0}, "None when criterion is None"),
        ({"criterion": "GL"}, "a number with criterion='GL'"),
        ({"criterion": "UP", "criterion_threshold": 1.5}, "an integer"),
        (
            {"criterion": "PQ", "criterion_threshold": 0.0},
            "criterion_threshold",
        ),
    ],
)
def test_keywords_that_do_not_go_together(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        keyword_rules(["val_loss"], owner="EarlyStopping", **kwargs)
