"""Argument validation: the one place for checks and their messages.

Every public class of keras_regkit validates its arguments here, so every
bad argument gets the same message, built by one function (`invalid`):

    RandomZoom: Invalid value received for argument `factor`. Expected a
    float in [0, 1). Received: factor=1.5

(the ``RandomZoom: `` prefix names the owner, where one is given).
`TypeError` is raised for a value of the wrong kind (a string or a boolean
where a number is expected, a number where a boolean is), `ValueError` for
a value of the right kind outside what is allowed.

Each ``check_*`` function returns the value as a plain Python value, so a
raise in a constructor is one line::

    self.rate = check_float("rate", rate, low=0, high=1, owner=self)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any


def error_message(
    name: str, expected: str, value: Any, owner: Any = None
) -> str:
    """Formats the one message template used for every bad argument.

    Args:
        name: The argument's name, as the user wrote it.
        expected: What is allowed, e.g. ``"a float in [0, 1)"``.
        value: What was received.
        owner: The object or function the argument belongs to (its class
            name, or the string itself, prefixes the message), or None.

    Returns:
        The message string.

    Example:
    >>> print(error_message("rate", "a float in [0, 1)", 1.5))
    ... # doctest: +NORMALIZE_WHITESPACE
    Invalid value received for argument `rate`.
    Expected a float in [0, 1). Received: rate=1.5
    >>> print(error_message("rate", "a float", "x", owner="DropPath"))
    ... # doctest: +NORMALIZE_WHITESPACE
    DropPath: Invalid value received for argument `rate`.
    Expected a float. Received: rate='x'
    """
    message = (
        f"Invalid value received for argument `{name}`. "
        f"Expected {expected}. Received: {name}={value!r}"
    )
    if owner is None:
        return message
    return f"{owner_name(owner)}: {message}"


def owner_name(owner: Any) -> str:
    """The name an owner goes by in messages: a string, or its class name.

    Example:
    >>> owner_name("Pipeline"), owner_name(1.0)
    ('Pipeline', 'float')
    """
    return owner if isinstance(owner, str) else type(owner).__name__


def invalid(
    name: str,
    expected: str,
    value: Any,
    *,
    owner: Any = None,
    error: type[Exception] = ValueError,
) -> Exception:
    """Builds the exception for one bad argument (the one entry point).

    Args:
        name: The argument's name.
        expected: What is allowed, in words.
        value: What was received.
        owner: The object the argument belongs to, named in the message.
        error: The exception class: `ValueError` (the default) for a value
            of the right kind out of range, `TypeError` for the wrong kind.

    Returns:
        The exception, for the caller to ``raise``.

    Example:
    >>> raise invalid("mode", "'min' or 'max'", "up", owner="Monitor")
    Traceback (most recent call last):
    ...
    ValueError: Monitor: Invalid value received for argument `mode`. \
Expected 'min' or 'max'. Received: mode='up'
    """
    return error(error_message(name, expected, value, owner))


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


def _is_boolean(value) -> bool:
    """Whether ``value`` is a Python, numpy or tensor boolean."""
    if isinstance(value, bool):
        return True
    dtype = getattr(value, "dtype", None)
    return dtype is not None and str(dtype).rsplit(".", 1)[-1] in (
        "bool",
        "bool_",
        "<dtype: 'bool'>",
    )


def _as_python_number(value):
    """A plain Python number for Python, numpy and 0-d tensor scalars.

    Returns None for anything else, booleans of every kind included.
    """
    if _is_boolean(value):
        return None
    if isinstance(value, numbers.Number):
        return value.item() if hasattr(value, "item") else value
    if (
        hasattr(value, "shape")
        and tuple(value.shape) == ()
        and hasattr(value, "dtype")
    ):
        try:
            number = value.item() if hasattr(value, "item") else float(value)
        except (TypeError, ValueError):
            return None
        return None if isinstance(number, bool) else number
    return None


def check_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    owner: Any = None,
) -> float:
    """Checks that ``value`` is a finite real number within bounds.

    Args:
        name: The argument's name, used in the message.
        value: The value to check. Python, numpy and 0-d tensor scalars
            are accepted; booleans of any kind are not.
        low: Lower bound, or None for none.
        high: Upper bound, or None for none.
        low_inclusive: Whether ``low`` itself is allowed.
        high_inclusive: Whether ``high`` itself is allowed.
        owner: Named in the message (see `invalid`).

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
        raise invalid(name, expected, value, owner=owner, error=TypeError)
    number = float(number)
    if not math.isfinite(number) or not _in_range(
        number, low, high, low_inclusive, high_inclusive
    ):
        raise invalid(name, expected, value, owner=owner)
    return number


def check_int(
    name: str,
    value: Any,
    *,
    low: int | None = None,
    high: int | None = None,
    owner: Any = None,
) -> int:
    """Checks that ``value`` is an integer within inclusive bounds.

    Args:
        name: The argument's name, used in the message.
        value: The value to check; integral floats such as ``3.0`` are
            rejected, booleans of any kind too.
        low: Inclusive lower bound, or None.
        high: Inclusive upper bound, or None.
        owner: Named in the message (see `invalid`).

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
        raise invalid(name, expected, value, owner=owner, error=TypeError)
    number = int(number)
    if not _in_range(number, low, high, True, True):
        raise invalid(name, expected, value, owner=owner)
    return number


def check_bool(name: str, value: Any, *, owner: Any = None) -> bool:
    """Checks that ``value`` is a Python ``bool``.

    ``1``, ``0.0``, ``None`` and numpy booleans are rejected: a flag such
    as ``jit_compile=1`` is a mistake to report, not to guess at.

    Args:
        name: The argument's name, used in the message.
        value: The value to check.
        owner: Named in the message (see `invalid`).

    Returns:
        The value, a Python ``bool``.

    Raises:
        TypeError: If the value is anything but ``True`` or ``False``.

    Example:
    >>> check_bool("jit_compile", True)
    True
    >>> check_bool("jit_compile", 1)
    Traceback (most recent call last):
    ...
    TypeError: Invalid value received for argument `jit_compile`. \
Expected True or False. Received: jit_compile=1
    """
    if not isinstance(value, bool):
        raise invalid(
            name, "True or False", value, owner=owner, error=TypeError
        )
    return value


def check_choice(
    name: str, value: Any, choices: Iterable[Any], *, owner: Any = None
) -> Any:
    """Checks that ``value`` is one of ``choices``.

    Args:
        name: The argument's name, used in the message.
        value: The value to check.
        choices: The allowed values.
        owner: Named in the message (see `invalid`).

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
        # `True == 1`: a boolean matches only a boolean choice.
        allowed = value in choices and (
            not _is_boolean(value) or any(_is_boolean(c) for c in choices)
        )
    except (TypeError, ValueError):
        allowed = False
    if not allowed:
        listed = ", ".join(repr(c) for c in choices)
        raise invalid(name, f"one of {listed}", value, owner=owner)
    return value


def check_type(
    name: str,
    value: Any,
    types: type | tuple,
    expected: str,
    *,
    owner: Any = None,
):
    """Checks that ``value`` is an instance of ``types``.

    Args:
        name: The argument's name, used in the message.
        value: The value to check.
        types: A type or tuple of types, as for ``isinstance``.
        expected: Words for what is allowed, e.g. ``"a keras.Model"``.
        owner: Named in the message (see `invalid`).

    Returns:
        The value, unchanged.

    Raises:
        TypeError: If the value is not an instance of ``types``.

    Example:
    >>> check_type("name", "l2", str, "a string")
    'l2'
    """
    if not isinstance(value, types):
        raise invalid(name, expected, value, owner=owner, error=TypeError)
    return value


def check_float_range(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    symmetric: bool = True,
    owner: Any = None,
) -> tuple[float, float]:
    """Checks a factor given as a float or a ``(low, high)`` pair.

    Args:
        name: The argument's name.
        value: A float ``f`` or a pair ``(a, b)`` with ``a <= b``.
        low: Smallest allowed bound, or None.
        high: Largest allowed bound, or None.
        symmetric: Whether a float ``f`` means ``(-f, f)`` (else
            ``(f, f)``, a fixed value).
        owner: Named in the message (see `invalid`).

    Returns:
        The ``(low, high)`` pair of plain floats.

    Raises:
        TypeError: If a bound is not a number.
        ValueError: If a bound is out of range, or ``a > b``.

    Example:
    >>> check_float_range("factor", 0.2, low=-1, high=1)
    (-0.2, 0.2)
    >>> check_float_range("factor", (0.5, 2.0), low=0)
    (0.5, 2.0)
    """
    bounds = {"low": low, "high": high, "owner": owner}
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise invalid(
                name, "a float or a pair (low, high)", value, owner=owner
            )
        a = check_float(name, value[0], **bounds)
        b = check_float(name, value[1], **bounds)
        if a > b:
            raise invalid(
                name, "a pair (low, high) with low <= high", value, owner=owner
            )
        return a, b
    if not symmetric:
        f = check_float(name, value, **bounds)
        return f, f
    f = check_float(name, value, low=0.0, owner=owner)
    if (low is not None and -f < low) or (high is not None and f > high):
        bound = min(abs(x) for x in (low, high) if x is not None)
        raise invalid(
            name, f"a float in [0, {bound:g}] or a pair", value, owner=owner
        )
    return -f, f
