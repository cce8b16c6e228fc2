"""Argument validation: the one place for checks and their messages.

Every public class of keras_regkit validates its constructor arguments
here, so every bad argument gets the same message template:

    Invalid value received for argument `rate`. Expected a float in
    [0, 1). Received: rate=1.5

`TypeError` is raised for a value of the wrong kind (a string where a
number is expected), `ValueError` for a value of the right kind outside
what is allowed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any


def error_message(name: str, expected: str, value: Any) -> str:
    """Formats the one message template used for every bad argument.

    Args:
        name: The argument's name, as the user wrote it.
        expected: What is allowed, e.g. ``"a float in [0, 1)"``.
        value: What was received.

    Returns:
        The message string.

    Example:
    >>> print(error_message("rate", "a float in [0, 1)", 1.5))
    ... # doctest: +NORMALIZE_WHITESPACE
    Invalid value received for argument `rate`.
    Expected a float in [0, 1). Received: rate=1.5
    """
    return (
        f"Invalid value received for argument `{name}`. "
        f"Expected {expected}. Received: {name}={value!r}"
    )


def _describe_range(kind, low, high, low_inclusive, high_inclusive):
    if low is not None and high is not None:
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        return f"{kind} in {left}{low:g}, {high:g}{right}"
    if low is not None:
        return f"{kind} {'>=' if low_inclusive else '>'} {low:g}"
    if high is not None:
        return f"{kind} {'<=' if high_inclusive else '<'} {high:g}"
    return kind


def _in_range(value, low, high, low_inclusive, high_inclusive):
    if low is not None and (
        value < low or (value == low and not low_inclusive)
    ):
        return False
    if high is not None and (
        value > high or (value == high and not high_inclusive)
    ):
        return False
    return True


def _as_python_number(value):
    """Returns a plain Python number for numpy / backend scalars."""
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return value
    if (
        hasattr(value, "shape")
        and tuple(value.shape) == ()
        and hasattr(value, "dtype")
    ):
        try:
            return value.item() if hasattr(value, "item") else float(value)
        except (TypeError, ValueError):
            return None
    return None


def check_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Checks that ``value`` is a finite real number within bounds.

    Args:
        name: The argument's name, used in the message.
        value: The value to check. Python, numpy and 0-d tensor scalars
            are accepted; booleans are not.
        low: Lower bound, or None for none.
        high: Upper bound, or None for none.
        low_inclusive: Whether ``low`` itself is allowed.
        high_inclusive: Whether ``high`` itself is allowed.

    Returns:
        The value as a plain Python ``float``.

    Raises:
        TypeError: If the value is not a real number.
        ValueError: If it is NaN, infinite or out of bounds.

    Example:
    >>> check_float("l2", 0.5, low=0)
    0.5
    """
    expected = _describe_range(
        "a finite float", low, high, low_inclusive, high_inclusive
    )
    number = _as_python_number(value)
    if number is None or isinstance(number, complex):
        raise TypeError(error_message(name, expected, value))
    number = float(number)
    if not math.isfinite(number) or not _in_range(
        number, low, high, low_inclusive, high_inclusive
    ):
        raise ValueError(error_message(name, expected, value))
    return number


def check_int(
    name: str,
    value: Any,
    *,
    low: int | None = None,
    high: int | None = None,
) -> int:
    """Checks that ``value`` is an integer within inclusive bounds.

    Args:
        name: The argument's name, used in the message.
        value: The value to check; integral floats such as ``3.0`` are
            rejected, booleans too.
        low: Inclusive lower bound, or None.
        high: Inclusive upper bound, or None.

    Returns:
        The value as a plain Python ``int``.

    Raises:
        TypeError: If the value is not an integer.
        ValueError: If it is out of bounds.

    Example:
    >>> check_int("patience", 3, low=0)
    3
    """
    expected = _describe_range("an integer", low, high, True, True)
    number = _as_python_number(value)
    if not isinstance(number, numbers.Integral):
        raise TypeError(error_message(name, expected, value))
    number = int(number)
    if not _in_range(number, low, high, True, True):
        raise ValueError(error_message(name, expected, value))
    return number


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Checks that ``value`` is one of ``choices``.

    Args:
        name: The argument's name, used in the message.
        value: The value to check.
        choices: The allowed values.

    Returns:
        The value, unchanged.

    Raises:
        ValueError: If the value is not among the choices.

    Example:
    >>> check_choice("mode", "min", ("auto", "min", "max"))
    'min'
    """
    choices = tuple(choices)
    try:
        allowed = value in choices
    except TypeError:
        allowed = False
    if not allowed:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(error_message(name, f"one of {listed}", value))
    return value


def check_type(name: str, value: Any, types: type | tuple, expected: str):
    """Checks that ``value`` is an instance of ``types``.

    Args:
        name: The argument's name, used in the message.
        value: The value to check.
        types: A type or tuple of types, as for ``isinstance``.
        expected: Words for what is allowed, e.g. ``"a keras.Model"``.

    Returns:
        The value, unchanged.

    Raises:
        TypeError: If the value is not an instance of ``types``.

    Example:
    >>> check_type("name", "l2", str, "a string")
    'l2'
    """
    if not isinstance(value, types):
        raise TypeError(error_message(name, expected, value))
    return value
