"""Stopping rules print as the call that builds them (issue #22 §4)."""

from __future__ import annotations

import pytest

from keras_regkit import callbacks

RULES = [
    callbacks.Patience(),
    callbacks.Patience(5, baseline=0.3, monitor="val_loss"),
    callbacks.StoppingThreshold(0.01),
    callbacks.DivergenceThreshold(10.0, monitor="loss"),
    callbacks.NonFinite(monitor="val_loss"),
    callbacks.GeneralizationLoss(2.0),
    callbacks.ProgressQuotient(0.5, strip_length=3, training_loss="mae"),
    callbacks.UpStrips(2),
    callbacks.AnyOf([callbacks.Patience(3), callbacks.NonFinite()]),
    callbacks.AllOf(
        [
            callbacks.Patience(3, monitor="val_loss"),
            callbacks.AnyOf([callbacks.UpStrips(1, strip_length=2)]),
        ]
    ),
]


def test_repr_names_the_arguments_that_differ_from_the_defaults():
    rule = callbacks.AnyOf(
        [
            callbacks.Patience(5, monitor="val_loss"),
            callbacks.GeneralizationLoss(2.0),
        ]
    )
    assert repr(rule) == (
        "AnyOf([Patience(monitor='val_loss', patience=5), "
        "GeneralizationLoss(alpha=2.0)])"
    )
    assert repr(callbacks.Patience()) == "Patience()"
    assert str(callbacks.UpStrips(2)) == "UpStrips(strips=2)"


@pytest.mark.parametrize("rule", RULES, ids=repr)
def test_repr_evaluates_to_an_equal_rule(rule):
    namespace = {name: getattr(callbacks, name) for name in callbacks.__all__}
    rebuilt = eval(repr(rule), namespace)  # noqa: S307 - our own repr
    assert type(rebuilt) is type(rule)
    assert rebuilt.get_config() == rule.get_config()
    assert repr(rebuilt) == repr(rule)


def test_a_subclass_without_its_own_repr_prints_its_config():
    class StopAbove(callbacks.StoppingRule):
        def __init__(self, limit, monitor=None):
            super().__init__(monitor)
            self.limit = limit

        def update(self, epoch, values):
            return None

        def get_config(self):
            return {**super().get_config(), "limit": self.limit}

    assert repr(StopAbove(0.5)) == "StopAbove(limit=0.5)"
    assert repr(StopAbove(0.5, "val_mae")) == (
        "StopAbove(monitor='val_mae', limit=0.5)"
    )
