"""Stopping rules: small objects with one protocol, and two combinators.

Each rule says which epoch-log keys it needs, takes one epoch at a time in
``update(epoch, values)``, and answers None (go on) or a `StopReason`.
Rules that judge a monitored quantity read it from a bound `Monitor`
(direction, smoothed value, best); a `StoppingRun` binds them. Like
optax's transforms, a new rule is a new small class, and `AnyOf` /
`AllOf` combine them.

Here: the protocol, `Patience`, the thresholds, `NonFinite` and the
combinators; Prechelt's criteria (`GeneralizationLoss`,
`ProgressQuotient`, `UpStrips`) are in `prechelt`.

Writing a rule: subclass `StoppingRule`, implement `update`, and keep
any per-run state in `reset` / `get_state` / `set_state`::

    @keras.saving.register_keras_serializable(package="my_package")
    class StopAbove(rk.callbacks.StoppingRule):
        def __init__(self, limit, monitor=None):
            super().__init__(monitor)
            self.limit = limit

        def update(self, epoch, values):
            if self.monitored.value > self.limit:
                return self.stop(f"{self.monitored.name} above {self.limit}")
            return None

        def get_config(self):
            return {**super().get_config(), "limit": self.limit}

Reference:
    Lutz Prechelt, "Early Stopping - But When?", in Neural Networks: Tricks
    of the Trade, Lecture Notes in Computer Science 1524, Springer, 1998,
    pp. 55-69.
"""

from __future__ import annotations

import abc
import inspect
import math
from collections.abc import Mapping
from collections.abc import Sequence

import keras

from keras_regkit import _validation
from keras_regkit.callbacks.early_stopping.monitor import Monitor
from keras_regkit.callbacks.early_stopping.reason import StopKind
from keras_regkit.callbacks.early_stopping.reason import StopReason

_register = keras.saving.register_keras_serializable(package="keras_regkit")


def _format_number(value):
    return f"{value:.6g}"


def as_reason(answer) -> StopReason | None:
    """A rule's answer as a `StopReason`: a plain string is a custom one."""
    if answer is None or isinstance(answer, StopReason):
        return answer
    return StopReason(answer)


def config_repr(obj) -> str:
    """``Name(key=value, ...)``: the config entries that differ from the
    defaults of ``__init__``, in config order.

    Example:
    >>> config_repr(Patience(5, monitor="val_loss"))
    "Patience(monitor='val_loss', patience=5)"
    """
    parameters = inspect.signature(type(obj).__init__).parameters
    defaults = {
        name: parameter.default
        for name, parameter in parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    arguments = ", ".join(
        f"{key}={value!r}"
        for key, value in obj.get_config().items()
        if key not in defaults or defaults[key] != value
    )
    return f"{type(obj).__name__}({arguments})"


def check_key(name, value, owner, expected="a non-empty string"):
    """Checks a key of the epoch logs: a non-empty string."""
    _validation.check_type(name, value, str, expected, owner=owner)
    if not value:
        raise _validation.invalid(name, expected, value, owner=owner)
    return value


# The protocol.


class StoppingRule(abc.ABC):
    """Base class of stopping rules: one epoch in, a reason or None out.

    Args:
        monitor: The monitored quantity the rule judges, or None for the
            callback's primary (first) monitored quantity.

    Attributes:
        kind: The `StopKind` of the reasons this rule gives.
        monitored: The bound `Monitor` (after `bind`).
    """

    kind = StopKind.CUSTOM

    def __init__(self, monitor: str | None = None):
        if monitor is not None:
            check_key("monitor", monitor, self, "None or a non-empty string")
        self.monitor = monitor
        self.monitored = None

    def monitor_names(self) -> list[str]:
        """The monitored quantities this rule names explicitly."""
        return [] if self.monitor is None else [self.monitor]

    def required_keys(self) -> tuple[str, ...]:
        """Epoch-log keys needed besides the monitored quantities."""
        return ()

    def bind(self, monitors: Mapping[str, Monitor], primary: str) -> None:
        """Attaches the rule to its `Monitor` (called by `StoppingRun`)."""
        self.monitored = monitors[self.monitor or primary]

    def reset(self) -> None:
        """Forgets the per-run state (a new `fit` starts)."""
        return None

    @abc.abstractmethod
    def update(self, epoch: int, values: Mapping[str, float]):
        """Takes one epoch; returns a `StopReason` to stop, else None.

        Args:
            epoch: The epoch index (0-based).
            values: The raw logged values of this epoch, as floats: every
                monitored quantity and every key of `required_keys`. The
                bound monitor holds the compared (smoothed) value, the best
                and whether this epoch improved (``self.monitored``).
        """

    def stop(self, message: str) -> StopReason:
        """A `StopReason` of this rule's kind."""
        return StopReason(message, self.kind)

    def get_state(self) -> dict:
        """The per-run state, as JSON-able plain values."""
        return {}

    def set_state(self, state: dict) -> None:
        """Loads a `get_state` result."""
        return None

    def get_config(self) -> dict:
        return {"monitor": self.monitor}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self) -> str:
        return config_repr(self)


@_register
class Patience(StoppingRule):
    """Stops after ``patience`` epochs without an improvement (Keras's rule).

    An improvement is judged by the monitor (``min_delta``, smoothing). As
    in Keras, the count never stops on the first epoch nor on an epoch
    that improved, and with ``baseline`` it only restarts at an epoch that
    beats the baseline too.

    Args:
        patience: Epochs without improvement after which training stops.
        baseline: A value to beat, or None.
        monitor: The quantity, or None for the primary one.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rule = rk.callbacks.Patience(2, monitor="loss")
    >>> rule
    Patience(monitor='loss', patience=2)
    >>> stopper = rk.callbacks.EarlyStopping(monitor="loss", rules=[rule])
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> stopper.set_model(model)
    >>> stopper.on_train_begin()
    >>> for epoch, loss in enumerate([1.0, 0.5, 0.6, 0.7, 0.4]):
    ...     stopper.on_epoch_end(epoch, {"loss": loss})
    ...     if model.stop_training:
    ...         break
    >>> stopper.stopped_epoch, stopper.stop_reason
    (3, StopReason('loss did not improve for 2 epochs', kind='patience'))
    """

    kind = StopKind.PATIENCE

    def __init__(
        self,
        patience: int = 0,
        baseline: float | None = None,
        monitor: str | None = None,
    ):
        super().__init__(monitor)
        self.patience = _validation.check_int(
            "patience", patience, low=0, owner=self
        )
        if baseline is not None:
            baseline = _validation.check_float("baseline", baseline, owner=self)
        self.baseline = baseline
        self.wait = 0

    def reset(self):
        self.wait = 0

    def update(self, epoch, values):
        monitor = self.monitored
        self.wait += 1
        if monitor.improved:
            if self.baseline is None or monitor.is_improvement(
                monitor.value, self.baseline
            ):
                self.wait = 0
            return None
        if epoch == 0 or self.wait < self.patience:
            return None
        return self.stop(self._phrase())

    def _phrase(self):
        monitor = self.monitored
        name, wait = monitor.name, self.wait
        if self.baseline is not None and (
            monitor.best is None
            or not monitor.is_improvement(monitor.best, self.baseline)
        ):
            return (
                f"{name} did not beat the baseline {self.baseline:g} for "
                f"{wait} epochs"
            )
        if monitor.min_delta == 0:
            return f"{name} did not improve for {wait} epochs"
        delta = f"{monitor.min_delta:g}"
        if monitor.min_delta_mode == "relative":
            delta += " of its best"
        return f"{name} did not improve by more than {delta} for {wait} epochs"

    def get_state(self):
        return {"wait": self.wait}

    def set_state(self, state):
        self.wait = state["wait"]

    def get_config(self):
        return {
            **super().get_config(),
            "patience": self.patience,
            "baseline": self.baseline,
        }


class _Threshold(StoppingRule):
    """A rule that stops once the value crosses ``threshold``."""

    def __init__(self, threshold: float, monitor: str | None = None):
        super().__init__(monitor)
        self.threshold = _validation.check_float(
            "threshold", threshold, owner=self
        )

    @abc.abstractmethod
    def _crossed(self, monitor) -> bool:
        """Whether ``monitor``'s value is past the threshold."""

    @abc.abstractmethod
    def _phrase(self, name: str) -> str:
        """The reason's words before the threshold, given the name."""

    def update(self, epoch, values):
        monitor = self.monitored
        if self._crossed(monitor):
            return self.stop(
                f"{self._phrase(monitor.name)} "
                f"{self.threshold:g} ({_format_number(monitor.value)})"
            )
        return None

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


@_register
class StoppingThreshold(_Threshold):
    """Stops once the value is better than ``threshold`` ("good enough").

    Args:
        threshold: The value to beat (strictly).
        monitor: The quantity, or None for the primary one.
    """

    kind = StopKind.THRESHOLD

    def _crossed(self, monitor):
        return monitor.is_better(monitor.value, self.threshold)

    def _phrase(self, name):
        return f"{name} reached the stopping threshold"


@_register
class DivergenceThreshold(_Threshold):
    """Stops once the value is worse than ``threshold`` ("hopeless").

    Args:
        threshold: The value not to cross (strictly).
        monitor: The quantity, or None for the primary one.
    """

    kind = StopKind.DIVERGENCE

    def _crossed(self, monitor):
        return monitor.is_better(self.threshold, monitor.value)

    def _phrase(self, name):
        return f"{name} diverged beyond the divergence threshold"


@_register
class NonFinite(StoppingRule):
    """Stops at once on a NaN or infinite logged (raw) value.

    Args:
        monitor: The quantity, or None for the primary one.
    """

    kind = StopKind.NON_FINITE

    def update(self, epoch, values):
        raw = self.monitored.raw
        if not math.isfinite(raw):
            return self.stop(
                f"{self.monitored.name} is {raw}, not a finite number"
            )
        return None


# Combinators.


class _Combinator(StoppingRule):
    def __init__(self, rules: Sequence[StoppingRule]):
        super().__init__(None)
        if (
            not isinstance(rules, (list, tuple))
            or not rules
            or not all(isinstance(rule, StoppingRule) for rule in rules)
        ):
            raise _validation.invalid(
                "rules",
                "a non-empty list of StoppingRule objects",
                rules,
                owner=self,
                error=TypeError,
            )
        self.rules = list(rules)

    def monitor_names(self):
        return [name for rule in self.rules for name in rule.monitor_names()]

    def required_keys(self):
        return tuple(key for rule in self.rules for key in rule.required_keys())

    def bind(self, monitors, primary):
        for rule in self.rules:
            rule.bind(monitors, primary)

    def reset(self):
        for rule in self.rules:
            rule.reset()

    def _updates(self, epoch, values):
        # Every rule sees every epoch, so that each one's state stays right.
        reasons = [as_reason(rule.update(epoch, values)) for rule in self.rules]
        return [reason for reason in reasons if reason is not None]

    def get_state(self):
        return {"rules": [rule.get_state() for rule in self.rules]}

    def set_state(self, state):
        for rule, rule_state in zip(self.rules, state["rules"], strict=True):
            rule.set_state(rule_state)

    def get_config(self):
        return {
            "rules": [
                keras.saving.serialize_keras_object(r) for r in self.rules
            ]
        }

    @classmethod
    def from_config(cls, config):
        rules = [
            keras.saving.deserialize_keras_object(rule)
            for rule in config["rules"]
        ]
        return cls(rules)

    def __repr__(self):
        rules = ", ".join(repr(rule) for rule in self.rules)
        return f"{type(self).__name__}([{rules}])"


@_register
class AnyOf(_Combinator):
    """Stops when any of its rules does (the first reason, in order).

    Args:
        rules: A non-empty list of rules.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rule = rk.callbacks.AnyOf([
    ...     rk.callbacks.Patience(5, monitor="val_loss"),
    ...     rk.callbacks.GeneralizationLoss(2.0, monitor="val_loss"),
    ... ])
    >>> rule
    AnyOf([Patience(monitor='val_loss', patience=5), \
GeneralizationLoss(monitor='val_loss', alpha=2.0)])
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> x, y = np.ones((16, 3)), np.ones((16, 1))
    >>> stopper = rk.callbacks.EarlyStopping(rules=[rule])
    >>> _ = model.fit(x, y, validation_split=0.25, epochs=2, verbose=0,
    ...     callbacks=[stopper])
    """

    def update(self, epoch, values):
        reasons = self._updates(epoch, values)
        return reasons[0] if reasons else None


@_register
class AllOf(_Combinator):
    """Stops when all of its rules do at the same epoch (reasons joined).

    Args:
        rules: A non-empty list of rules.

    Example:
    >>> import keras
    >>> import keras_regkit as rk
    >>> both = rk.callbacks.AllOf([
    ...     rk.callbacks.Patience(3, monitor="val_loss"),
    ...     rk.callbacks.Patience(3, monitor="val_accuracy"),
    ... ])
    >>> stopper = rk.callbacks.EarlyStopping(
    ...     monitor=["val_loss", "val_accuracy"], mode=["min", "max"],
    ...     rules=[both])
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse", metrics=["accuracy"])
    >>> stopper.set_model(model)
    >>> stopper.on_train_begin()
    >>> logs = [(1.0, 0.5), (0.9, 0.6), (0.9, 0.6), (0.9, 0.6), (0.9, 0.6)]
    >>> for epoch, (loss, accuracy) in enumerate(logs):
    ...     stopper.on_epoch_end(
    ...         epoch, {"val_loss": loss, "val_accuracy": accuracy})
    >>> print(stopper.stop_reason)
    val_loss did not improve for 3 epochs and val_accuracy did not \
improve for 3 epochs
    """

    def update(self, epoch, values):
        reasons = self._updates(epoch, values)
        if len(reasons) < len(self.rules):
            return None
        return StopReason(" and ".join(reasons), reasons[0].kind)
