"""Student's t distribution and the paired t interval, in plain Python.

The kit depends on numpy and Keras only, so the t quantile is computed
here rather than taken from scipy: for an integer number of degrees of
freedom ``v`` the two-sided probability ``P(|T| <= t)`` is a finite sum in
``theta = arctan(t / sqrt(v))`` (Abramowitz and Stegun 1964, 26.7.3 and
26.7.4), exact up to rounding, and the quantile is found by bisection on
``theta``. The tests check both against ``scipy.stats``.

Reference:
    Abramowitz, M. and Stegun, I. A. (1964). Handbook of Mathematical
    Functions, 26.7: Student's t-distribution.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from keras_regkit import _validation


def _central(theta: float, dof: int) -> float:
    """``P(|T| <= sqrt(dof) tan(theta))`` for ``T ~ t(dof)``."""
    sin, cos2 = math.sin(theta), math.cos(theta) ** 2
    if dof % 2 == 0:
        term = total = 1.0
        for j in range(1, dof // 2):
            term *= cos2 * (2 * j - 1) / (2 * j)
            total += term
        return sin * total
    if dof == 1:
        return 2.0 * theta / math.pi
    term = total = math.cos(theta)
    for j in range(1, (dof - 1) // 2):
        term *= cos2 * (2 * j) / (2 * j + 1)
        total += term
    return 2.0 / math.pi * (theta + sin * total)


def t_cdf(t: float, dof: int) -> float:
    """The cumulative distribution function of Student's t.

    Args:
        t: Where to evaluate it.
        dof: The degrees of freedom, an integer >= 1.

    Returns:
        ``P(T <= t)``.

    Example:
    >>> from keras_regkit.diagnostics import t_cdf
    >>> round(t_cdf(2.0, 3), 6)
    0.930337
    """
    dof = _validation.check_int("dof", dof, low=1, owner="t_cdf")
    t = float(t)
    if math.isnan(t):
        return math.nan
    central = _central(math.atan(abs(t) / math.sqrt(dof)), dof)
    return 0.5 + math.copysign(0.5 * central, t)


def t_ppf(q: float, dof: int) -> float:
    """The quantile function of Student's t (inverse of `t_cdf`).

    Args:
        q: A probability in (0, 1).
        dof: The degrees of freedom, an integer >= 1.

    Returns:
        The ``t`` with ``P(T <= t) = q``.

    Example:
    >>> from keras_regkit.diagnostics import t_ppf
    >>> round(t_ppf(0.975, 4), 6)  # a 95% two-sided interval over 5 seeds
    2.776445
    """
    q = _validation.check_float(
        "q",
        q,
        low=0,
        high=1,
        low_inclusive=False,
        high_inclusive=False,
        owner="t_ppf",
    )
    dof = _validation.check_int("dof", dof, low=1, owner="t_ppf")
    target = abs(2.0 * q - 1.0)
    low, high = 0.0, math.pi / 2
    for _ in range(200):
        middle = 0.5 * (low + high)
        if _central(middle, dof) < target:
            low = middle
        else:
            high = middle
        if high - low < 1e-16:
            break
    t = math.sqrt(dof) * math.tan(0.5 * (low + high))
    return t if q >= 0.5 else -t


@dataclasses.dataclass(frozen=True)
class PairedInterval:
    """A paired t confidence interval for a mean difference.

    Attributes:
        mean: The mean of the paired differences.
        low: The lower end of the interval.
        high: The upper end of the interval.
        half_width: ``t_{(1+c)/2, n-1} * sd / sqrt(n)``.
        t_statistic: ``mean / (sd / sqrt(n))`` (NaN when every difference
            is zero, infinite when all are equal and not zero).
        p_value: The two-sided p-value of ``mean == 0``.
        n: The number of pairs.
        confidence: The confidence level ``c``.
        method: ``"paired t"``.
    """

    mean: float
    low: float
    high: float
    half_width: float
    t_statistic: float
    p_value: float
    n: int
    confidence: float
    method: str = "paired t"

    def __str__(self) -> str:
        return (
            f"{self.mean:+.4g} ± {self.half_width:.2g} "
            f"({self.confidence:.0%} CI, {self.method} over {self.n} pairs, "
            f"p={self.p_value:.2g})"
        )


def paired_interval(values, baseline, confidence: float = 0.95):
    """The paired t interval of ``mean(values - baseline)``.

    The differences ``d_i = values_i - baseline_i`` (one per seed) are
    treated as a sample: ``mean(d) ± t_{(1+c)/2, n-1} sd(d) / sqrt(n)``,
    with ``sd`` the sample standard deviation (``ddof=1``); the same test
    as ``scipy.stats.ttest_rel(values, baseline)``.

    Args:
        values: The variant's numbers, one per seed.
        baseline: The baseline's numbers on the same seeds, same length.
        confidence: The confidence level, in (0, 1).

    Returns:
        A `PairedInterval`.

    Example:
    >>> from keras_regkit.diagnostics import paired_interval
    >>> interval = paired_interval([0.10, 0.12, 0.11], [0.13, 0.14, 0.15])
    >>> round(interval.mean, 4), round(interval.half_width, 4)
    (-0.03, 0.0248)
    """
    owner = "paired_interval"
    confidence = _validation.check_float(
        "confidence",
        confidence,
        low=0,
        high=1,
        low_inclusive=False,
        high_inclusive=False,
        owner=owner,
    )
    values = _vector("values", values, owner)
    baseline = _vector("baseline", baseline, owner)
    if values.shape != baseline.shape or values.size < 2:
        raise _validation.invalid(
            "baseline",
            f"as many numbers as values ({values.size}), at least 2",
            baseline.tolist(),
            owner=owner,
        )
    differences = values - baseline
    n = differences.size
    mean = float(differences.mean())
    se = float(differences.std(ddof=1)) / math.sqrt(n)
    half = t_ppf(0.5 + confidence / 2, n - 1) * se
    if se > 0:
        t = mean / se
        p = 2.0 * (1.0 - t_cdf(abs(t), n - 1))
    elif mean == 0:
        t, p = math.nan, math.nan
    else:
        t, p = math.copysign(math.inf, mean), 0.0
    return PairedInterval(
        mean=mean,
        low=mean - half,
        high=mean + half,
        half_width=half,
        t_statistic=t,
        p_value=p,
        n=n,
        confidence=confidence,
    )


def _vector(name, value, owner):
    try:
        array = np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        raise _validation.invalid(
            name, "a sequence of numbers", value, owner=owner, error=TypeError
        ) from None
    if array.ndim != 1 or not np.all(np.isfinite(array)):
        raise _validation.invalid(
            name, "a 1-D sequence of finite numbers", value, owner=owner
        )
    return array
