"""Prechelt's stopping criteria: GL, PQ and UP, and their arithmetic.

The pure functions (`generalization_loss`, `training_progress`,
`rising_strips`) work on plain numbers; the rules (`GeneralizationLoss`,
`ProgressQuotient`, `UpStrips`) are `StoppingRule` objects built on them,
and `criterion_rule` builds one from `EarlyStopping`'s ``criterion`` and
``criterion_threshold`` keywords.

Reference:
    Lutz Prechelt, "Early Stopping - But When?", in Neural Networks: Tricks
    of the Trade, Lecture Notes in Computer Science 1524, Springer, 1998,
    pp. 55-69.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras

from keras_regkit import _validation
from keras_regkit.callbacks.early_stopping.reason import StopKind
from keras_regkit.callbacks.early_stopping.rules import StoppingRule
from keras_regkit.callbacks.early_stopping.rules import check_key

_register = keras.saving.register_keras_serializable(package="keras_regkit")


# Prechelt's arithmetic, as pure functions of plain numbers.


def generalization_loss(value: float, lowest: float) -> float:
    """Prechelt's generalization loss, in percent.

    ``GL(t) = 100 * (E_va(t) / E_opt(t) - 1)``, where ``E_va(t)`` is the
    validation error at epoch t and ``E_opt(t)`` the lowest one so far. It
    needs positive errors; with ``E_opt <= 0`` it is 0 at the lowest value
    and infinite above it.

    Example:
    >>> generalization_loss(0.55, 0.5)
    10.000000000000009
    """
    if lowest > 0:
        return 100.0 * (value / lowest - 1.0)
    return 0.0 if value <= lowest else math.inf


def training_progress(strip: Sequence[float]) -> float:
    """Prechelt's training progress over a strip of k epochs, per mille.

    ``P_k(t) = 1000 * (sum of E_tr over the strip / (k * min of E_tr over
    the strip) - 1)``: how much larger the strip's mean training error is
    than its minimum. It is large while training error still falls fast and
    tends to 0 as training converges. Infinite (no judgement) when the
    strip's minimum is not positive.

    Example:
    >>> round(training_progress([1.2, 1.1, 1.0]), 6)
    100.0
    """
    lowest = min(strip)
    if lowest <= 0:
        return math.inf
    return 1000.0 * (sum(strip) / (len(strip) * lowest) - 1.0)


def rising_strips(strip_ends: Sequence[float]) -> int:
    """Number of successive strips, up to the last, whose error rose.

    ``strip_ends`` holds the validation error at the end of each strip; a
    strip "rose" when its end value is above the previous strip's end value.

    Example:
    >>> rising_strips([1.0, 0.8, 0.9, 1.0, 1.1])
    3
    """
    count = 0
    for index in range(len(strip_ends) - 1, 0, -1):
        if strip_ends[index] > strip_ends[index - 1]:
            count += 1
        else:
            break
    return count


class _PrecheltRule(StoppingRule):
    """Prechelt's criteria judge a quantity to minimise (an error)."""

    kind = StopKind.CRITERION
    criterion = ""

    def bind(self, monitors, primary):
        super().bind(monitors, primary)
        self._check_minimised(self.monitored.mode)

    def _check_minimised(self, direction):
        """Raises unless the monitored quantity is (or may be) minimised.

        Called with the declared ``mode`` when binding, then with the
        resolved direction at each update (``mode="auto"`` is known only
        once the model's metrics are).
        """
        if direction == "max":
            raise _validation.invalid(
                "mode",
                f"a quantity to minimise with criterion={self.criterion!r} "
                "(Prechelt's criteria judge an error or a loss; "
                f"{self.monitored.name} is maximised)",
                direction,
                owner=self.monitored.owner,
            )

    @classmethod
    def _check_alpha(cls, name, value, owner):
        return _validation.check_float(
            name, value, low=0, low_inclusive=False, owner=owner
        )


@_register
class GeneralizationLoss(_PrecheltRule):
    """Prechelt's GL_alpha: stop when ``GL(t)`` exceeds ``alpha`` percent.

    ``GL(t) = 100 (E_va(t) / E_opt(t) - 1)`` (see `generalization_loss`),
    with E_va the monitored (smoothed) value and E_opt the lowest so far.

    Args:
        alpha: The threshold, in percent (> 0).
        monitor: The quantity, or None for the primary one.
    """

    criterion = "GL"

    def __init__(self, alpha: float, monitor: str | None = None):
        super().__init__(monitor)
        self.alpha = self._check_alpha("alpha", alpha, self)
        self.lowest = None

    def reset(self):
        self.lowest = None

    def update(self, epoch, values):
        self._check_minimised(self.monitored.direction)
        value = self.monitored.value
        self.lowest = value if self.lowest is None else min(self.lowest, value)
        gl = generalization_loss(value, self.lowest)
        if gl > self.alpha:
            return self.stop(
                f"generalization loss GL = {gl:.4g}% exceeded "
                f"{self.alpha:g}% (Prechelt's GL criterion)"
            )
        return None

    def get_state(self):
        return {"lowest": self.lowest}

    def set_state(self, state):
        self.lowest = state["lowest"]

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


@_register
class ProgressQuotient(_PrecheltRule):
    """Prechelt's PQ_alpha: at each strip's end, stop when GL / P_k > alpha.

    ``P_k(t)`` is the training progress over the last strip of k epochs
    (see `training_progress`), read from the training loss.

    Args:
        alpha: The threshold (> 0).
        strip_length: k, in epochs.
        training_loss: The log key of the training error.
        monitor: The quantity, or None for the primary one.
    """

    criterion = "PQ"

    def __init__(
        self,
        alpha: float,
        strip_length: int = 5,
        training_loss: str = "loss",
        monitor: str | None = None,
    ):
        super().__init__(monitor)
        self.alpha = self._check_alpha("alpha", alpha, self)
        self.strip_length = _validation.check_int(
            "strip_length", strip_length, low=1, owner=self
        )
        self.training_loss = check_key("training_loss", training_loss, self)
        self.reset()

    def required_keys(self):
        return (self.training_loss,)

    def reset(self):
        self.count = 0
        self.lowest = None
        self.strip = []

    def update(self, epoch, values):
        self._check_minimised(self.monitored.direction)
        value = self.monitored.value
        k = self.strip_length
        self.count += 1
        self.lowest = value if self.lowest is None else min(self.lowest, value)
        self.strip = [*self.strip, values[self.training_loss]][-k:]
        if self.count % k:
            return None
        gl = generalization_loss(value, self.lowest)
        progress = training_progress(self.strip)
        if progress > 0:
            quotient = gl / progress
        else:
            quotient = math.inf if gl > 0 else 0.0
        if quotient > self.alpha:
            return self.stop(
                f"GL / training progress = {quotient:.4g} exceeded "
                f"{self.alpha:g} (Prechelt's PQ criterion, strips of {k})"
            )
        return None

    def get_state(self):
        return {"count": self.count, "lowest": self.lowest, "strip": self.strip}

    def set_state(self, state):
        self.count = state["count"]
        self.lowest = state["lowest"]
        self.strip = list(state["strip"])

    def get_config(self):
        return {
            **super().get_config(),
            "alpha": self.alpha,
            "strip_length": self.strip_length,
            "training_loss": self.training_loss,
        }


@_register
class UpStrips(_PrecheltRule):
    """Prechelt's UP_s: stop when the error rose in ``strips`` strips in a row.

    At the end of each strip of k epochs, the monitored (smoothed) value
    is compared with its value at the end of the previous strip.

    Args:
        strips: s, the number of successive rising strips (>= 1).
        strip_length: k, in epochs.
        monitor: The quantity, or None for the primary one.
    """

    criterion = "UP"

    def __init__(
        self, strips: int, strip_length: int = 5, monitor: str | None = None
    ):
        super().__init__(monitor)
        self.strips = _validation.check_int("strips", strips, low=1, owner=self)
        self.strip_length = _validation.check_int(
            "strip_length", strip_length, low=1, owner=self
        )
        self.reset()

    def reset(self):
        self.count = 0
        self.strip_ends = []

    def update(self, epoch, values):
        self._check_minimised(self.monitored.direction)
        k = self.strip_length
        self.count += 1
        if self.count % k:
            return None
        self.strip_ends.append(self.monitored.value)
        rising = rising_strips(self.strip_ends)
        if rising >= self.strips:
            return self.stop(
                f"{self.monitored.name} rose in {rising} successive strips "
                f"of {k} epochs (Prechelt's UP criterion)"
            )
        return None

    def get_state(self):
        return {"count": self.count, "strip_ends": self.strip_ends}

    def set_state(self, state):
        self.count = state["count"]
        self.strip_ends = list(state["strip_ends"])

    def get_config(self):
        return {
            **super().get_config(),
            "strips": self.strips,
            "strip_length": self.strip_length,
        }


# The criterion keyword of EarlyStopping: one mapping, read once.
CRITERIA = {
    "GL": GeneralizationLoss,
    "PQ": ProgressQuotient,
    "UP": UpStrips,
}


def criterion_rule(
    criterion: str, threshold, strip_length: int, owner=None
) -> StoppingRule:
    """The rule for ``EarlyStopping(criterion=..., criterion_threshold=...)``.

    ``criterion_threshold`` is alpha (a float > 0) for GL and PQ, and s
    (an integer >= 1) for UP; it is checked under that keyword's name.

    Example:
    >>> criterion_rule("UP", 2, strip_length=3).get_config()
    {'monitor': None, 'strips': 2, 'strip_length': 3}
    """
    name = "criterion_threshold"
    if threshold is None:
        raise _validation.invalid(
            name, f"a number with criterion={criterion!r}", None, owner=owner
        )
    if criterion == "UP":
        strips = _validation.check_int(name, threshold, low=1, owner=owner)
        return UpStrips(strips, strip_length)
    alpha = _PrecheltRule._check_alpha(name, threshold, owner)
    if criterion == "PQ":
        return ProgressQuotient(alpha, strip_length)
    return CRITERIA[criterion](alpha)
