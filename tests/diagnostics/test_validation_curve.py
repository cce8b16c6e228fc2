import matplotlib
import numpy as np
import pytest
from diagnostics._linear import linear_data

from keras_regkit.diagnostics import ValidationCurveResult
from keras_regkit.diagnostics import validation_curve

matplotlib.use("Agg")

VALUES = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
# Per seed (columns) validation errors: the best mean is at 1e-2 (0.20),
# its standard error is std([0.16, 0.20, 0.24], ddof=1) / sqrt(3) = 0.0231;
# 1e-1 (0.215) is within it, 1e-3 (0.25) and 1 (0.40) are not.
VALIDATION = [
    [0.30, 0.30, 0.30],
    [0.25, 0.25, 0.25],
    [0.16, 0.20, 0.24],
    [0.215, 0.215, 0.215],
    [0.40, 0.40, 0.40],
]


def _table(simpler, values=VALUES):
    return ValidationCurveResult(
        points=values,
        seeds=[0, 1, 2],
        train=np.zeros((5, 3)),
        validation=VALIDATION,
        test=None,
        error="loss",
        param="l2",
        simpler=simpler,
    )


def test_one_standard_error_rule_on_a_synthetic_table():
    result = _table("higher")
    assert result.best_value == 1e-2
    se = np.std(VALIDATION[2], ddof=1) / np.sqrt(3)
    assert result.standard_error == pytest.approx(se)
    assert result.one_se_value == 1e-1
    # Leaning the other way, the simplest within one SE is the best itself
    # (1e-3 is 0.05 above it, more than 0.023).
    assert _table("lower").one_se_value == 1e-2
    assert "best l2=0.01; one-standard-error choice l2=0.1" in str(result)


def test_log_axis_only_for_positive_values_over_a_decade():
    assert _table("higher").log_scale()
    assert not _table("higher", [0.0, 0.1, 0.2, 0.3, 0.4]).log_scale()
    assert not _table("higher", [1, 2, 3, 4, 5]).log_scale()
    assert not _table("higher", list("abcde")).log_scale()
    # Values that are not numbers are ordered as given.
    assert _table("higher", list("abcde")).one_se_value == "d"
    ax = _table("higher").plot()
    assert ax.get_xscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["train", "validation", "best", "one SE"]
    assert [line.get_xdata()[0] for line in ax.get_lines()[2:]] == [
        1e-2,
        1e-1,
    ]
    assert _table("higher", [1, 2, 3, 4, 5]).plot().get_xscale() == "linear"
    matplotlib.pyplot.close("all")


def test_ridge_path_training_error_grows_with_the_strength(exact_linear):
    # Closed form: the ridge training error is non-decreasing in the
    # penalty, and with a small sample some penalty beats none.
    x, y = linear_data(12, seed=0)
    validation = linear_data(2000, seed=1)
    calls = []

    def build(ridge):
        model = exact_linear(ridge=ridge)
        calls.append(model.fit_calls)
        return model

    result = validation_curve(
        build,
        "ridge",
        [0.0, 1.0, 10.0, 100.0],
        (x, y),
        validation_data=validation,
        seeds=1,
        fit_kwargs=lambda ridge: {"epochs": int(ridge) + 1},
        verbose=0,
    )
    assert np.all(np.diff(result.mean("train")) > 0)
    assert result.validation[-1, 0] > result.validation[0, 0]
    assert [c[0]["epochs"] for c in calls] == [1, 2, 11, 101]
    assert result.values == [0.0, 1.0, 10.0, 100.0]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(values=[]), ValueError, "`values`"),
        (dict(values=[0.1, 0.1]), ValueError, "`values`"),
        (dict(values="ab"), TypeError, "`values`"),
        (dict(param=None), TypeError, "`param`"),
        (dict(simpler="smaller"), ValueError, "`simpler`"),
        (dict(fit_kwargs=3), TypeError, "`fit_kwargs`"),
    ],
)
def test_bad_arguments(exact_linear, kwargs, error, match):
    data = linear_data(8, seed=0)
    arguments = dict(
        build_model=lambda value: exact_linear(),
        param="l2",
        values=[0.1, 1.0],
        data=data,
        validation_data=data,
        verbose=0,
    )
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        validation_curve(**arguments)
