import numpy as np
import pytest
import scipy.stats

from keras_regkit.diagnostics import paired_interval
from keras_regkit.diagnostics import t_cdf
from keras_regkit.diagnostics import t_ppf


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 5, 9, 30, 201])
def test_t_quantiles_and_cdf_match_scipy(dof):
    for q in (0.005, 0.025, 0.3, 0.5, 0.9, 0.975, 0.995):
        assert t_ppf(q, dof) == pytest.approx(
            scipy.stats.t.ppf(q, dof), rel=1e-9, abs=1e-12
        ), (q, dof)
    for t in (-7.0, -1.3, 0.0, 0.4, 2.5, 40.0):
        assert t_cdf(t, dof) == pytest.approx(
            scipy.stats.t.cdf(t, dof), rel=1e-9, abs=1e-14
        ), (t, dof)


def test_paired_interval_matches_scipy_and_the_formula():
    variant = np.array([0.112, 0.118, 0.109, 0.121, 0.115, 0.107])
    baseline = np.array([0.131, 0.129, 0.127, 0.138, 0.126, 0.130])
    interval = paired_interval(variant, baseline, confidence=0.9)

    d = variant - baseline
    n = len(d)
    half = scipy.stats.t.ppf(0.95, n - 1) * d.std(ddof=1) / np.sqrt(n)
    reference = scipy.stats.ttest_rel(variant, baseline)
    assert interval.mean == pytest.approx(d.mean(), rel=1e-12)
    assert interval.half_width == pytest.approx(half, rel=1e-9)
    assert (interval.low, interval.high) == pytest.approx(
        (d.mean() - half, d.mean() + half), rel=1e-9
    )
    assert interval.t_statistic == pytest.approx(reference.statistic)
    assert interval.p_value == pytest.approx(reference.pvalue, rel=1e-6)
    assert (interval.n, interval.method) == (6, "paired t")
    assert "90% CI, paired t over 6 pairs" in str(interval)


def test_paired_interval_without_spread():
    same = paired_interval([0.1, 0.2], [0.1, 0.2])
    assert same.half_width == 0.0 and np.isnan(same.p_value)
    shifted = paired_interval([0.5, 1.5], [0.25, 1.25])
    assert shifted.p_value == 0.0 and shifted.t_statistic == np.inf


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(values=[1.0, 2.0], baseline=[1.0]), ValueError, "baseline"),
        (dict(values=[1.0], baseline=[1.0]), ValueError, "at least 2"),
        (dict(values="ab", baseline=[1.0, 2.0]), TypeError, "values"),
        (
            dict(values=[1.0, 2.0], baseline=[1.0, 2.0], confidence=1.0),
            ValueError,
            r"`confidence`.*\(0, 1\)",
        ),
    ],
)
def test_paired_interval_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        paired_interval(**kwargs)
