"""From a learning curve to words: high variance, high bias, or fine.

The rules read the curve at its largest training size (means over the
seeds), with three thresholds, all relative so that they hold for any
loss:

- **high variance** when the gap (validation error minus training error)
  is more than ``max_gap`` (default 20 %) of the validation error. If the
  validation error still falls by more than ``min_fall`` (default 2 %)
  per doubling of the data between the last two sizes, more data helps;
  augmentation and regularization help in any case.
- **high bias** when the training error exceeds ``target_error`` (the
  error you need, or the best achievable: the noise level, human error)
  by more than ``max_excess`` (default 20 %) of the validation error: a
  bigger model, longer training or less regularization helps. Without
  ``target_error`` bias is not judged (a training error of 0.3 may be
  the noise level of the task or a model far too small).
- **fine** when neither.
"""

from __future__ import annotations

import dataclasses
import math

from keras_regkit import _validation
from keras_regkit.diagnostics.result import LearningCurveResult

HIGH_VARIANCE = "high variance"
HIGH_BIAS = "high bias"
BOTH = "high bias and high variance"
FINE = "fine"
LOW_VARIANCE = "no high variance (bias not judged: no target_error)"


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    """What a learning curve says, with the numbers it was read from.

    Attributes:
        verdict: One of ``"high variance"``, ``"high bias"``, ``"high bias
            and high variance"``, ``"fine"``, or ``"no high variance (bias
            not judged: no target_error)"``.
        high_variance: Whether the gap is large.
        high_bias: Whether the training error is high; None without a
            ``target_error``.
        more_data_helps: Whether the validation error still falls.
        evidence: The numbers used (errors at the largest size, the gap,
            its share of the validation error, the fall per doubling).
        thresholds: The thresholds applied.
        advice: What helps, one sentence per item.
    """

    verdict: str
    high_variance: bool
    high_bias: bool | None
    more_data_helps: bool | None
    evidence: dict
    thresholds: dict
    advice: list

    def __str__(self) -> str:
        e, t = self.evidence, self.thresholds
        lines = [
            f"{self.verdict[0].upper()}{self.verdict[1:]}.",
            f"At {e['size']} training examples: training error "
            f"{e['train_error']:.4g}, validation error "
            f"{e['validation_error']:.4g}, gap {e['gap']:.4g} = "
            f"{e['gap_share']:.0%} of the validation error (high variance "
            f"above {t['max_gap']:.0%}).",
        ]
        if e["fall_per_doubling"] is not None:
            lines.append(
                f"The validation error falls by {e['fall_per_doubling']:.1%}"
                f" per doubling of the data over the last sizes (still "
                f"falling above {t['min_fall']:.0%})."
            )
        if e["target_error"] is not None:
            lines.append(
                f"Training error minus target {e['target_error']:.4g}: "
                f"{e['excess']:.4g} = {e['excess_share']:.0%} of the "
                f"validation error (high bias above {t['max_excess']:.0%})."
            )
        return "\n".join(lines + [f"- {a}" for a in self.advice])


def diagnose(
    result: LearningCurveResult,
    *,
    target_error: float | None = None,
    max_gap: float = 0.2,
    max_excess: float = 0.2,
    min_fall: float = 0.02,
) -> Diagnosis:
    """Reads a learning curve as high variance, high bias, or fine.

    Args:
        result: A `LearningCurveResult`.
        target_error: The error you need, or the lowest achievable (the
            noise level, human error), in the units of the result's
            error; None does not judge bias.
        max_gap: The largest gap, as a share of the validation error,
            that is not high variance.
        max_excess: The largest excess of the training error over
            ``target_error``, as a share of the validation error, that is
            not high bias.
        min_fall: The relative fall of the validation error per doubling
            of the data above which it is still falling.

    Returns:
        A `Diagnosis`; ``print`` it for the words and numbers.

    Example:
    >>> from keras_regkit.diagnostics import LearningCurveResult, diagnose
    >>> curve = LearningCurveResult(
    ...     points=[100, 200], seeds=[0], train=[[0.02], [0.03]],
    ...     validation=[[0.40], [0.30]], test=None, error="loss")
    >>> diagnose(curve).verdict
    'high variance'
    >>> diagnose(curve).more_data_helps
    True
    """
    owner = "diagnose"
    _validation.check_type(
        "result",
        result,
        LearningCurveResult,
        "a LearningCurveResult",
        owner=owner,
    )
    if target_error is not None:
        target_error = _validation.check_float(
            "target_error", target_error, low=0, owner=owner
        )
    thresholds = {
        name: _validation.check_float(name, value, low=0, owner=owner)
        for name, value in (
            ("max_gap", max_gap),
            ("max_excess", max_excess),
            ("min_fall", min_fall),
        )
    }
    train, validation = result.mean("train"), result.mean("validation")
    scale = float(validation[-1]) if validation[-1] > 0 else math.inf
    gap = float(validation[-1] - train[-1])
    fall = None
    if len(result.points) > 1 and validation[-2] > 0:
        doublings = math.log2(result.points[-1] / result.points[-2])
        fall = float(
            (validation[-2] - validation[-1]) / validation[-2] / doublings
        )
    evidence = {
        "size": result.points[-1],
        "train_error": float(train[-1]),
        "validation_error": float(validation[-1]),
        "gap": gap,
        "gap_share": gap / scale,
        "fall_per_doubling": fall,
        "target_error": target_error,
        "excess": None,
        "excess_share": None,
    }
    high_variance = gap / scale > thresholds["max_gap"]
    more_data = None if fall is None else fall > thresholds["min_fall"]
    high_bias = None
    if target_error is not None:
        excess = float(train[-1]) - target_error
        evidence.update(excess=excess, excess_share=excess / scale)
        high_bias = excess / scale > thresholds["max_excess"]
    return Diagnosis(
        verdict=_verdict(high_variance, high_bias),
        high_variance=high_variance,
        high_bias=high_bias,
        more_data_helps=more_data,
        evidence=evidence,
        thresholds=thresholds,
        advice=_advice(high_variance, high_bias, more_data),
    )


def _verdict(high_variance, high_bias) -> str:
    if high_variance and high_bias:
        return BOTH
    if high_variance:
        return HIGH_VARIANCE
    if high_bias:
        return HIGH_BIAS
    return LOW_VARIANCE if high_bias is None else FINE


def _advice(high_variance, high_bias, more_data) -> list:
    advice = []
    if high_variance:
        if more_data:
            advice.append(
                "More data helps: the validation error is still "
                "falling as the training set grows."
            )
        advice.append(
            "Augmentation or stronger regularization (weight "
            "decay, dropout, early stopping) narrows the gap."
        )
    if high_bias:
        advice.append(
            "The model underfits: a bigger model, longer "
            "training or less regularization helps; more data "
            "will not."
        )
    if high_bias is None and not high_variance:
        advice.append(
            "Pass target_error (the error you need, or the noise "
            "level) to judge whether the training error is too "
            "high."
        )
    if high_bias is False and not high_variance:
        advice.append(
            "Nothing to fix: the training error is near the "
            "target and the gap is small."
        )
    return advice
