"""The data of a study: checks, sizes and the subsets trials train on.

``data``, ``validation_data`` and ``test_data`` are ``(x, y)`` tuples of
arrays (``x`` may be a structure of arrays, as Keras accepts: a dict or a
list for a model with several inputs). A learning curve trains on subsets
of ``data``: the subset of size ``n`` for seed ``s`` depends on ``(s, n)``
only, so every variant of a study trains on the same examples, and it is
stratified when the labels are classes (integer labels, or one-hot rows).
"""

from __future__ import annotations

import keras
import numpy as np

from keras_regkit import _validation

_DATA = "an (x, y) tuple of arrays with the same number of examples"
_SIZES = (
    "a non-empty list of fractions in (0, 1] or of counts in "
    "[1, number of training examples]"
)


def check_data(name, data, owner, required=True):
    """``(x, y)`` with numpy leaves, or None where allowed and given.

    Raises:
        TypeError: If ``data`` is not a pair of arrays.
        ValueError: If the arrays' lengths differ or are zero.
    """
    if data is None and not required:
        return None
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise _validation.invalid(
            name, _DATA, data, owner=owner, error=TypeError
        )
    leaves = keras.tree.flatten(tuple(data))
    if not leaves or not all(
        hasattr(leaf, "shape") and len(leaf.shape) >= 1 for leaf in leaves
    ):
        raise _validation.invalid(
            name, _DATA, data, owner=owner, error=TypeError
        )
    counts = sorted({int(leaf.shape[0]) for leaf in leaves})
    if len(counts) != 1 or counts[0] == 0:
        raise _validation.invalid(
            name, _DATA, f"<arrays of lengths {counts}>", owner=owner
        )
    return keras.tree.map_structure(np.asarray, tuple(data))


def length(data) -> int:
    """The number of examples of an ``(x, y)`` pair."""
    return int(keras.tree.flatten(data)[0].shape[0])


def take(data, indices):
    """The examples ``indices`` of every array of ``data``."""
    return keras.tree.map_structure(lambda a: a[indices], data)


def check_sizes(train_sizes, total, owner) -> list[int]:
    """Training-set sizes as sorted, distinct counts.

    Args:
        train_sizes: Fractions of the training data (floats in (0, 1]) or
            counts (ints in [1, total]), not both.
        total: The number of training examples.

    Returns:
        The counts, ascending; a fraction ``f`` is ``max(1, round(f *
        total))``.
    """
    if not isinstance(train_sizes, (list, tuple, np.ndarray)) or not len(
        train_sizes
    ):
        raise _validation.invalid(
            "train_sizes", _SIZES, train_sizes, owner=owner, error=TypeError
        )
    sizes = [
        s.item() if isinstance(s, np.generic) else s
        for s in (
            train_sizes.tolist()
            if isinstance(train_sizes, np.ndarray)
            else train_sizes
        )
    ]
    if all(isinstance(s, int) and not isinstance(s, bool) for s in sizes):
        for size in sizes:
            _validation.check_int(
                "train_sizes", size, low=1, high=total, owner=owner
            )
        counts = sizes
    elif all(isinstance(s, float) for s in sizes):
        for size in sizes:
            _validation.check_float(
                "train_sizes",
                size,
                low=0,
                high=1,
                low_inclusive=False,
                owner=owner,
            )
        counts = [max(1, round(s * total)) for s in sizes]
    else:
        raise _validation.invalid(
            "train_sizes", _SIZES, train_sizes, owner=owner, error=TypeError
        )
    return sorted(set(counts))


def class_labels(y):
    """One class per example, or None if ``y`` does not hold classes.

    Integer (or boolean) labels of shape ``(n,)`` or ``(n, 1)`` are
    classes; so are one-hot rows (0/1 values, one 1 per row).
    """
    if not isinstance(y, np.ndarray) or y.ndim == 0:
        return None
    if y.dtype.kind in "biu" and (y.ndim == 1 or y.shape[1:] == (1,)):
        return y.reshape(len(y))
    if (
        y.ndim == 2
        and y.shape[1] > 1
        and np.all((y == 0) | (y == 1))
        and np.all(y.sum(axis=1) == 1)
    ):
        return y.argmax(axis=1)
    return None


def subset_indices(y, size: int, seed: int, stratify: bool) -> np.ndarray:
    """The training examples for one ``(seed, size)``, sorted.

    A random permutation per seed (per class when stratified) is cut at
    ``size`` (per class: the largest-remainder share of ``size``), so the
    subset depends on ``(seed, size)`` only.

    Example:
    >>> y = np.array([0] * 8 + [1] * 2)
    >>> indices = subset_indices(y, 5, seed=0, stratify=True)
    >>> np.bincount(y[indices]).tolist()
    [4, 1]
    """
    total = length(y)
    rng = np.random.default_rng(seed % 2**64)
    if size >= total:
        return np.arange(total)
    labels = class_labels(y) if stratify else None
    if labels is None:
        return np.sort(rng.permutation(total)[:size])
    classes, counts = np.unique(labels, return_counts=True)
    shares = counts * size / total
    quota = np.floor(shares).astype(int)
    order = np.argsort(-(shares - quota), kind="stable")
    quota[order[: size - quota.sum()]] += 1
    chosen = [
        rng.permutation(np.flatnonzero(labels == label))[:count]
        for label, count in zip(classes, quota, strict=True)
    ]
    return np.sort(np.concatenate(chosen))
