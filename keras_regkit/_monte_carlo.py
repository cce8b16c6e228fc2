"""The mean (and spread) of a model's outputs over random forward passes.

`keras_regkit.layers.mc_predict` (Monte Carlo dropout) and
`keras_regkit.augment.tta_predict` (test-time augmentation) are the same
computation: run the model several times on each input, each run with
other random draws, and summarise the runs per example. This module is
that computation, once:

- the input (an array or a structure of arrays) is cut into chunks of
  ``batch_size`` examples, so memory is bounded;
- a chunk's ``passes`` runs are either **stacked** (each example repeated
  ``passes`` times on the batch axis, one call of ``predict`` per chunk:
  cheap, but only valid when every random draw is per example) or
  **separate** (one call per pass: valid for any randomness);
- the mean and the population standard deviation (``ddof=0``) over the
  passes are kept per example in float64 (Welford's update for separate
  passes) and returned as float32.

The caller supplies ``predict(rows, pass_index, chunk_index)``, which runs
the model (compiled once, e.g. ``model.predict_on_batch``) and returns its
outputs for ``rows``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from keras_regkit import _validation

STACKED = "stacked"
SEPARATE = "separate"


@dataclasses.dataclass(frozen=True)
class SamplingInfo:
    """Which way the passes were run, and why.

    Attributes:
        sampling: ``"stacked"`` or ``"separate"``.
        reason: Why, in words.
        layers: Names of the layers that ruled out stacking (if any).
    """

    sampling: str
    reason: str
    layers: tuple[str, ...] = ()


def first_leaf(x):
    """The first array of a structure (the one that gives the batch size)."""
    return keras.tree.flatten(x)[0]


def num_examples(x) -> int:
    """The batch size of an array or a structure of arrays."""
    return int(np.shape(first_leaf(x))[0])


class _Shown:
    """Stands for an array in a message: its dtype and shape, not values."""

    def __init__(self, array):
        self.text = f"<{array.dtype} array of shape {array.shape}>"

    def __repr__(self):
        return self.text


def _shown(x):
    """``x`` as a message shows it: arrays by dtype and shape."""
    return keras.tree.map_structure(lambda a: _Shown(a) if np.ndim(a) else a, x)


def check_batch(name: str, x, *, owner: Any, rank: int | None = None):
    """Checks the inputs of the passes; returns them as numpy arrays.

    Args:
        name: The argument's name, used in the message.
        x: An array (or tensor) or a structure (list, dict) of them, with
            the same number of examples (first dimension), at least one.
        owner: Named in the message (see `keras_regkit._validation`).
        rank: The rank every array must have (4 for images), or None for
            any rank >= 1.

    Returns:
        ``x`` with every array converted by ``np.asarray``.

    Raises:
        TypeError: For no array, or a scalar (a number, string, None...)
            where an array is meant, or non-numeric images (``rank``).
        ValueError: For arrays of another ``rank``, of different numbers
            of examples, or without examples.

    Example:
    >>> check_batch("x", [np.ones((2, 3)), np.ones((2,))], owner="f")[1]
    array([1., 1.])
    >>> check_batch("x", 0.5, owner="f")
    Traceback (most recent call last):
    ...
    TypeError: f: Invalid value received for argument `x`. Expected an \
array or a structure of arrays, with a batch axis. Received: x=0.5
    """
    if rank is None:
        expected = "an array or a structure of arrays, with a batch axis"
    else:
        expected = f"a numeric array of rank {rank} (examples first)"
    leaves = [np.asarray(a) for a in keras.tree.flatten(x)]
    if x is None or not leaves or not all(np.ndim(a) for a in leaves):
        raise _validation.invalid(
            name, expected, _shown(x), owner=owner, error=TypeError
        )
    if rank is not None and (
        leaves[0].dtype.kind not in "iuf" or len(leaves) > 1
    ):
        raise _validation.invalid(
            name, expected, _shown(x), owner=owner, error=TypeError
        )
    if rank is not None and leaves[0].ndim != rank:
        raise _validation.invalid(name, expected, _shown(x), owner=owner)
    if len({len(a) for a in leaves}) > 1:
        raise _validation.invalid(
            name,
            "arrays with the same number of examples",
            _shown(x),
            owner=owner,
        )
    if not len(leaves[0]):
        raise _validation.invalid(
            name, "at least one example", _shown(x), owner=owner
        )
    return keras.tree.map_structure(np.asarray, x)


def naming_errors_of_first_call(predict, name: str, x, *, owner: Any):
    """Wraps ``predict``: an error of its first call names the argument.

    A model refuses inputs of the wrong shape or dtype (a `ValueError` or
    `TypeError` of Keras's that names the layer, not the argument) on the
    first forward pass; that error is raised again as the argument's,
    with the model's own chained to it.

    Args:
        predict: ``predict(rows, pass_index, chunk_index)`` (see
            `mean_over_passes`).
        name: The inputs' argument name.
        x: The inputs, shown in the message by dtype and shape.
        owner: Named in the message.

    Returns:
        A function like ``predict``.
    """
    called = False

    def first_call_named(rows, pass_index, chunk_index):
        nonlocal called
        if called:
            return predict(rows, pass_index, chunk_index)
        try:
            outputs = predict(rows, pass_index, chunk_index)
        except (TypeError, ValueError) as error:
            raise _validation.invalid(
                name,
                "inputs the model accepts (the model's error is chained)",
                _shown(x),
                owner=owner,
                error=TypeError if isinstance(error, TypeError) else ValueError,
            ) from error
        called = True
        return outputs

    return first_call_named


def chunks(x, batch_size: int):
    """Yields ``(chunk_index, chunk)``: ``batch_size`` examples at a time.

    Example:
    >>> [c.tolist() for _, c in chunks(np.arange(5), 2)]
    [[0, 1], [2, 3], [4]]
    """
    for index, start in enumerate(range(0, num_examples(x), batch_size)):
        yield (
            index,
            keras.tree.map_structure(
                lambda a, s=start: a[s : s + batch_size], x
            ),
        )


class RunningMoments:
    """Per-element mean and variance of structures of arrays, one at a time.

    Welford's update in float64: no catastrophic cancellation when the
    mean is large against the spread.

    Example:
    >>> moments = RunningMoments()
    >>> for value in ([1.0, 10.0], [3.0, 10.0]):
    ...     moments.add(np.array(value))
    >>> moments.mean().tolist(), moments.std().tolist()
    ([2.0, 10.0], [1.0, 0.0])
    """

    def __init__(self):
        self.count = 0
        self._mean = None
        self._m2 = None

    def add(self, outputs) -> None:
        """Adds one pass's outputs (an array or structure of arrays)."""
        values = keras.tree.map_structure(
            lambda y: np.asarray(y, dtype=np.float64), outputs
        )
        self.count += 1
        if self._mean is None:
            self._mean = values
            self._m2 = keras.tree.map_structure(np.zeros_like, values)
            return
        n = self.count
        delta = keras.tree.map_structure(np.subtract, values, self._mean)
        self._mean = keras.tree.map_structure(
            lambda m, d: m + d / n, self._mean, delta
        )
        self._m2 = keras.tree.map_structure(
            lambda m2, d, y, m: m2 + d * (y - m),
            self._m2,
            delta,
            values,
            self._mean,
        )

    def mean(self):
        return self._mean

    def std(self):
        return keras.tree.map_structure(
            lambda m2: np.sqrt(m2 / self.count), self._m2
        )


def _stacked_moments(predict, chunk, passes, chunk_index):
    rows = keras.tree.map_structure(lambda a: np.repeat(a, passes, 0), chunk)
    n = num_examples(chunk)
    outputs = predict(rows, None, chunk_index)
    grouped = keras.tree.map_structure(
        lambda y: np.asarray(y, dtype=np.float64).reshape(
            (n, passes, *np.shape(y)[1:])
        ),
        outputs,
    )
    return (
        keras.tree.map_structure(lambda g: g.mean(1), grouped),
        keras.tree.map_structure(lambda g: g.std(1), grouped),
    )


def _separate_moments(predict, chunk, passes, chunk_index):
    moments = RunningMoments()
    for index in range(passes):
        moments.add(predict(chunk, index, chunk_index))
    return moments.mean(), moments.std()


def mean_over_passes(
    predict: Callable[[Any, int | None, int], Any],
    x,
    passes: int,
    *,
    batch_size: int,
    sampling: str = SEPARATE,
):
    """Mean and standard deviation of ``predict`` over ``passes`` runs.

    Args:
        predict: ``predict(rows, pass_index, chunk_index)`` returns the
            model's outputs (an array or structure of arrays) with one row
            per row of ``rows``. ``pass_index`` counts the passes over one
            chunk from 0; it is None for a stacked call, whose ``rows``
            hold every example of the chunk ``passes`` times in a row
            (``np.repeat`` on the batch axis). ``chunk_index`` counts the
            chunks from 0 (e.g. to derive a seed).
        x: The inputs: an array or a structure (list, dict) of arrays with
            the same first dimension.
        passes: Number of runs per example, >= 1.
        batch_size: Examples per chunk, >= 1 (a stacked call has
            ``batch_size * passes`` rows).
        sampling: ``"stacked"`` or ``"separate"`` (see the module
            docstring).

    Returns:
        ``(mean, std)`` over the passes, float32 arrays (or structures of
        them, like the outputs), one row per example.

    Example:
    >>> calls = []
    >>> def predict(rows, pass_index, chunk_index):
    ...     calls.append(len(rows))
    ...     return rows * (1.0 if pass_index is None else pass_index)
    >>> mean, std = mean_over_passes(
    ...     predict, np.ones((5, 1)), 3, batch_size=2)
    >>> calls, mean.ravel().tolist(), round(float(std[0, 0]), 3)
    ([2, 2, 2, 2, 2, 2, 1, 1, 1], [1.0, 1.0, 1.0, 1.0, 1.0], 0.816)
    >>> _ = mean_over_passes(
    ...     predict, np.ones((5, 1)), 3, batch_size=2, sampling="stacked")
    >>> calls[9:]
    [6, 6, 3]
    """
    runs = {STACKED: _stacked_moments, SEPARATE: _separate_moments}
    _validation.check_choice(
        "sampling", sampling, runs, owner="mean_over_passes"
    )
    run = runs[sampling]
    means, stds = [], []
    for chunk_index, chunk in chunks(x, batch_size):
        mean, std = run(predict, chunk, passes, chunk_index)
        means.append(mean)
        stds.append(std)

    def join(parts):
        return keras.tree.map_structure(
            lambda *a: np.concatenate(a).astype(np.float32), *parts
        )

    return join(means), join(stds)
