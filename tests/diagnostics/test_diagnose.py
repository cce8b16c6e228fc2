import pytest

from keras_regkit.diagnostics import LearningCurveResult
from keras_regkit.diagnostics import diagnose


def _curve(train, validation, sizes=(100, 200, 400)):
    return LearningCurveResult(
        points=list(sizes),
        seeds=[0],
        train=[[t] for t in train],
        validation=[[v] for v in validation],
        test=None,
        error="loss",
    )


def test_high_variance_with_the_numbers_it_used():
    # Gap 0.20 - 0.02 = 0.18 = 90 % of the validation error; the
    # validation error falls (0.25 - 0.20) / 0.25 = 20 % per doubling.
    curve = _curve([0.0, 0.01, 0.02], [0.30, 0.25, 0.20])
    result = diagnose(curve, target_error=0.0)
    assert result.verdict == "high variance"
    assert result.high_variance and result.high_bias is False
    assert result.more_data_helps
    assert result.evidence["gap"] == pytest.approx(0.18)
    assert result.evidence["gap_share"] == pytest.approx(0.9)
    assert result.evidence["fall_per_doubling"] == pytest.approx(0.2)
    text = str(result)
    assert "gap 0.18 = 90% of the validation error" in text
    assert "above 20%" in text and "More data helps" in text


def test_high_bias_when_training_error_is_far_above_the_target():
    curve = _curve([0.28, 0.29, 0.30], [0.33, 0.32, 0.32])
    result = diagnose(curve, target_error=0.05)
    assert result.verdict == "high bias"
    assert not result.high_variance
    assert result.evidence["excess"] == pytest.approx(0.25)
    assert result.evidence["excess_share"] == pytest.approx(0.25 / 0.32)
    assert "bigger model" in str(result)
    # The same curve is fine where 0.30 is the noise level.
    assert diagnose(curve, target_error=0.30).verdict == "fine"
    # Without a target, bias is not judged.
    unknown = diagnose(curve)
    assert unknown.high_bias is None and "no high variance" in unknown.verdict


def test_both_and_the_thresholds():
    curve = _curve([0.20, 0.25, 0.30], [0.60, 0.50, 0.45])
    assert diagnose(curve, target_error=0.0).verdict == (
        "high bias and high variance"
    )
    # The gap is a third of the validation error: not high variance when
    # up to 40 % is allowed.
    assert not diagnose(curve, max_gap=0.4).high_variance
    # Falling by 10 % per doubling: not "still falling" above 15 %.
    assert diagnose(curve, min_fall=0.15).more_data_helps is False


def test_one_size_cannot_say_whether_more_data_helps():
    result = diagnose(_curve([0.0], [0.5], sizes=[100]))
    assert result.verdict == "high variance"
    assert result.more_data_helps is None
    assert result.evidence["fall_per_doubling"] is None
    assert "More data helps" not in str(result)
    assert "falls by" not in str(result)


def test_bad_arguments():
    with pytest.raises(TypeError, match="`result`"):
        diagnose({"train": [0.1]})
    curve = _curve([0.1, 0.1, 0.1], [0.2, 0.2, 0.2])
    with pytest.raises(ValueError, match="`max_gap`"):
        diagnose(curve, max_gap=-0.1)
    with pytest.raises(ValueError, match="`target_error`"):
        diagnose(curve, target_error=-1.0)
