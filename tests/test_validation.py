"""The one argument-validation helper module and its message template."""

import math

import numpy as np
import pytest

from keras_regkit import _validation as v


def test_template():
    assert v.error_message("rate", "a float in [0, 1)", 1.5) == (
        "Invalid value received for argument `rate`. "
        "Expected a float in [0, 1). Received: rate=1.5"
    )


@pytest.mark.parametrize(
    "kwargs, bad, expected",
    [
        (dict(low=0), -5, "a finite float >= 0"),
        (dict(low=0, low_inclusive=False), 0, "a finite float > 0"),
        (dict(high=1), 5, "a finite float <= 1"),
        (
            dict(low=0, high=1, high_inclusive=False),
            1,
            r"a finite float in \[0, 1\)",
        ),
    ],
)
def test_check_float_describes_range(kwargs, bad, expected):
    with pytest.raises(
        ValueError, match=f"Expected {expected}. Received: x={bad}"
    ):
        v.check_float("x", bad, **kwargs)


def test_check_float_accepts_scalars_and_returns_python_float():
    for value in (1, 1.5, np.float32(1.5), np.array(2.0), np.int64(3)):
        result = v.check_float("x", value)
        assert type(result) is float


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_check_float_rejects_non_finite(bad):
    with pytest.raises(ValueError, match="finite"):
        v.check_float("x", bad)


@pytest.mark.parametrize("bad", ["1", None, True, [1.0], np.ones(2), 1j])
def test_check_float_rejects_wrong_types(bad):
    with pytest.raises(TypeError, match="argument `x`"):
        v.check_float("x", bad)


def test_check_int():
    assert v.check_int("n", np.int32(4), low=1) == 4
    with pytest.raises(TypeError, match="an integer >= 1"):
        v.check_int("n", 4.0, low=1)
    with pytest.raises(TypeError):
        v.check_int("n", False)
    with pytest.raises(
        ValueError, match=r"an integer in \[1, 3\]. Received: n=4"
    ):
        v.check_int("n", 4, low=1, high=3)


def test_check_choice_and_type():
    assert v.check_choice("mode", "min", ("min", "max")) == "min"
    with pytest.raises(
        ValueError, match="one of 'min', 'max'. Received: mode='avg'"
    ):
        v.check_choice("mode", "avg", ("min", "max"))
    with pytest.raises(ValueError, match="Received: mode=\\[1\\]"):
        v.check_choice("mode", [1], ("min",))
    with pytest.raises(TypeError, match="Expected a bool. Received: flag=1"):
        v.check_type("flag", 1, bool, "a bool")
