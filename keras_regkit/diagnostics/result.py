"""The results of the studies: the numbers, a table, a plot.

Each result keeps every trial's number (``train``, ``validation`` and,
when test data was given, ``test``: arrays of shape ``(points, seeds)``)
and summarizes them as mean ± standard deviation over the seeds
(``ddof=1``, 0 with one seed). ``print(result)`` shows the table,
``result.topandas_module()`` returns it as a DataFrame where pandas is
installed, ``result.plot()`` draws it with matplotlib.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

_SPLITS = ("train", "validation", "test")


def seed_std(values: np.ndarray) -> np.ndarray:
    if values.shape[-1] < 2:
        return np.zeros(values.shape[:-1])
    return values.std(axis=-1, ddof=1)


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(r[i]) for r in [header, *rows]) for i in range(len(header))
    ]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines += [
        "  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True))
        for r in rows
    ]
    return "\n".join(lines)


def pandas_module():
    try:
        import pandas
    except ImportError:
        raise ImportError(
            "topandas_module() needs pandas, which is not installed: `pip "
            "install pandas` (print(result) shows the same table)."
        ) from None
    return pandas


@dataclasses.dataclass(eq=False)
class _Curve:
    """Errors per point (a training size or a hyperparameter value)."""

    points: list
    seeds: list[int]
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray | None
    error: str
    _point_name = "point"

    def __post_init__(self):
        for split in _SPLITS:
            value = getattr(self, split)
            if value is not None:
                setattr(self, split, np.asarray(value, dtype="float64"))

    def splits(self) -> list[str]:
        """The splits measured: train, validation and maybe test."""
        return [s for s in _SPLITS if getattr(self, s) is not None]

    def mean(self, split: str = "validation") -> np.ndarray:
        """The mean error of ``split`` over the seeds, one per point."""
        return getattr(self, split).mean(axis=-1)

    def std(self, split: str = "validation") -> np.ndarray:
        """The standard deviation over the seeds (``ddof=1``)."""
        return seed_std(getattr(self, split))

    def rows(self) -> list[dict]:
        """The table as a list of dicts, one per point."""
        rows = []
        for i, point in enumerate(self.points):
            row = {self._point_name: point}
            for split in self.splits():
                row[f"{split}_mean"] = float(self.mean(split)[i])
                row[f"{split}_std"] = float(self.std(split)[i])
            rows.append(row)
        return rows

    def to_pandas(self):
        """The table as a `pandas.DataFrame` (needs pandas)."""
        return pandas_module().DataFrame(self.rows())

    def __str__(self) -> str:
        header = [self._point_name, *self.splits()]
        rows = [
            [str(p)]
            + [
                f"{self.mean(s)[i]:.4g} ± {self.std(s)[i]:.2g}"
                for s in self.splits()
            ]
            for i, p in enumerate(self.points)
        ]
        title = (
            f"{type(self).__name__}: {self.error}, mean ± std over "
            f"{len(self.seeds)} seed(s)"
        )
        return title + "\n" + table(header, rows)

    def _plot(self, ax, x, log):
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
        for split in self.splits():
            mean, std = self.mean(split), self.std(split)
            ax.plot(x, mean, marker="o", label=split)
            ax.fill_between(x, mean - std, mean + std, alpha=0.2)
        if log:
            ax.set_xscale("log")
        ax.set_ylabel(self.error)
        return ax


@dataclasses.dataclass(eq=False)
class LearningCurveResult(_Curve):
    """The errors of a learning curve: ``points`` are training sizes.

    Example:
    >>> from keras_regkit.diagnostics import LearningCurveResult
    >>> result = LearningCurveResult(
    ...     points=[10, 100], seeds=[0, 1], train=[[0.1, 0.1], [0.3, 0.3]],
    ...     validation=[[0.9, 0.7], [0.5, 0.5]], test=None, error="loss")
    >>> print(result)
    LearningCurveResult: loss, mean ± std over 2 seed(s)
    size    train  validation
      10  0.1 ± 0  0.8 ± 0.14
     100  0.3 ± 0     0.5 ± 0
    """

    _point_name = "size"

    @property
    def sizes(self) -> list[int]:
        """The training-set sizes (counts)."""
        return list(self.points)

    def plot(self, ax=None):
        """Training and validation (and test) error against the size.

        Lines are means over the seeds, bands ± one standard deviation.

        Returns:
            The matplotlib ``Axes``.
        """
        ax = self._plot(ax, self.points, log=False)
        ax.set_xlabel("training examples")
        ax.legend()
        return ax


@dataclasses.dataclass(eq=False)
class ValidationCurveResult(_Curve):
    """The errors of a validation curve: ``points`` are parameter values.

    Attributes:
        param: The hyperparameter's name.
        simpler: ``"higher"`` if a higher value gives a simpler model
            (a regularizer strength, a dropout rate), ``"lower"`` if a
            lower one does (epochs, units).
    """

    param: str = "value"
    simpler: str = "higher"

    @property
    def _point_name(self):
        return self.param

    @property
    def values(self) -> list:
        """The hyperparameter values, as given."""
        return list(self.points)

    @property
    def best_index(self) -> int:
        """The index of the lowest mean validation error."""
        return int(np.argmin(self.mean("validation")))

    @property
    def best_value(self):
        """The value with the lowest mean validation error."""
        return self.points[self.best_index]

    @property
    def standard_error(self) -> float:
        """The standard error of the best value's validation error:
        ``std / sqrt(seeds)``, 0 with one seed."""
        return float(self.std()[self.best_index] / math.sqrt(len(self.seeds)))

    @property
    def one_se_index(self) -> int:
        """The index of `one_se_value`."""
        mean = self.mean()
        limit = mean[self.best_index] + self.standard_error
        within = [i for i in range(len(self.points)) if mean[i] <= limit]
        numeric = all(
            isinstance(p, (int, float)) and not isinstance(p, bool)
            for p in self.points
        )
        order = (lambda i: self.points[i]) if numeric else (lambda i: i)
        pick = max if self.simpler == "higher" else min
        return pick(within, key=order)

    @property
    def one_se_value(self):
        """The simplest value within one standard error of the best.

        The one-standard-error rule (Hastie, Tibshirani and Friedman,
        2009, 7.10): among values whose mean validation error is at most
        ``best + standard_error``, the highest if ``simpler="higher"``,
        else the lowest (values that are not numbers: the last or the
        first in the order given).
        """
        return self.points[self.one_se_index]

    def log_scale(self) -> bool:
        """Whether the values are positive numbers spanning > 1 decade."""
        try:
            values = np.asarray(self.points, dtype="float64")
        except (TypeError, ValueError):
            return False
        return bool(np.all(values > 0) and values.max() / values.min() > 10)

    def __str__(self) -> str:
        return (
            super().__str__()
            + f"\nbest {self.param}={self.best_value!r}; one-standard-error "
            f"choice {self.param}={self.one_se_value!r} (the "
            f"{'highest' if self.simpler == 'higher' else 'lowest'} value "
            f"within {self.standard_error:.2g} of the best)"
        )

    def plot(self, ax=None):
        """The regularization path: error against the value.

        A log axis where the values are positive and span more than a
        decade; non-numeric values are placed evenly and labelled. Dashed:
        the best value; dotted: the one-standard-error choice.

        Returns:
            The matplotlib ``Axes``.
        """
        try:
            x = np.asarray(self.points, dtype="float64")
        except (TypeError, ValueError):
            x = np.arange(len(self.points))
        ax = self._plot(ax, x, log=self.log_scale())
        if x.dtype.kind != "f":
            ax.set_xticks(x, [str(p) for p in self.points])
        ax.axvline(
            x[self.best_index], color="gray", linestyle="--", label="best"
        )
        one_se = x[self.one_se_index]
        ax.axvline(one_se, color="gray", linestyle=":", label="one SE")
        ax.set_xlabel(self.param)
        ax.legend()
        return ax
