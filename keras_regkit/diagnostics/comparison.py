"""The result of `compare`: errors per variant and paired differences."""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_regkit.diagnostics import _stats
from keras_regkit.diagnostics import result


@dataclasses.dataclass(eq=False)
class ComparisonResult:
    """Errors of several variants on the same seeds, and paired differences.

    Attributes:
        names: The variants, the baseline first.
        seeds: The seeds.
        errors: ``{split: {name: array of one error per seed}}``.
        error: The error's name.
        confidence: The confidence level of the intervals.
    """

    names: list[str]
    seeds: list[int]
    errors: dict
    error: str
    confidence: float = 0.95

    @property
    def baseline(self) -> str:
        """The variant the others are compared with."""
        return self.names[0]

    def difference(self, name: str, split: str = "validation"):
        """`PairedInterval` of ``name``'s error minus the baseline's."""
        errors = self.errors[split]
        return _stats.paired_interval(
            errors[name], errors[self.baseline], self.confidence
        )

    def rows(self, split: str = "validation") -> list[dict]:
        """One dict per variant: mean, std, difference and its interval."""
        rows = []
        for name in self.names:
            values = np.asarray(self.errors[split][name], dtype="float64")
            row = {
                "variant": name,
                "mean": float(values.mean()),
                "std": float(result.seed_std(values)),
            }
            if name != self.baseline:
                d = self.difference(name, split)
                row.update(
                    difference=d.mean, low=d.low, high=d.high, p_value=d.p_value
                )
            rows.append(row)
        return rows

    def to_pandas(self, split: str = "validation"):
        """`rows` as a `pandas.DataFrame` (needs pandas)."""
        return result.pandas_module().DataFrame(self.rows(split))

    def plot(self, split: str = "validation", ax=None):
        """Each variant's difference from the baseline with its interval.

        Returns:
            The matplotlib ``Axes``.
        """
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(5, 3), layout="constrained")
        others = self.names[1:]
        intervals = [self.difference(name, split) for name in others]
        ax.errorbar(
            [d.mean for d in intervals],
            range(len(others)),
            xerr=[d.half_width for d in intervals],
            fmt="o",
            capsize=4,
        )
        ax.axvline(0.0, color="gray", linestyle="--")
        ax.set_yticks(range(len(others)), others)
        ax.set_xlabel(
            f"{split} {self.error} minus {self.baseline} "
            f"({self.confidence:.0%} CI, paired t)"
        )
        return ax

    def __str__(self) -> str:
        parts = []
        for split in self.errors:
            if split == "train":
                continue
            header = [
                "variant",
                f"{split} {self.error}",
                f"minus {self.baseline}",
                "p",
            ]
            rows = []
            for row in self.rows(split):
                spread = f"{row['mean']:.4g} ± {row['std']:.2g}"
                if "difference" in row:
                    half = row["high"] - row["difference"]
                    rows.append(
                        [
                            row["variant"],
                            spread,
                            f"{row['difference']:+.4g} ± {half:.2g}",
                            f"{row['p_value']:.2g}",
                        ]
                    )
                else:
                    rows.append([row["variant"], spread, "(baseline)", ""])
            parts.append(result.table(header, rows))
        return (
            f"ComparisonResult: paired t, {self.confidence:.0%} CI over "
            f"{len(self.seeds)} seeds (mean ± std per variant)\n"
            + "\n\n".join(parts)
        )
