"""The demo's report: the per-seed results summarized, a table, two pictures.

Every variant is trained once per seed; `summarize` turns the per-seed
`training.Result`s into one `Summary` per variant (mean and standard
deviation over the seeds), which the table and the gap chart show.
"""

from __future__ import annotations

import dataclasses

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

# The quantities summarized per variant, as (attribute of `Result`, column).
QUANTITIES = (
    ("train_acc", "train acc"),
    ("val_acc", "val acc"),
    ("test_acc", "test acc"),
    ("gap", "gap"),
    ("epochs_run", "epochs"),
    ("seconds", "time s"),
)
TABLE_COLUMNS = ("variant", *(column for _, column in QUANTITIES))
_FORMATS = {
    "train_acc": "{:.3f}",
    "val_acc": "{:.3f}",
    "test_acc": "{:.3f}",
    "gap": "{:+.3f}",
    "epochs_run": "{:.1f}",
    "seconds": "{:.1f}",
}


@dataclasses.dataclass
class Summary:
    """One variant over its seeds.

    Attributes:
        name: The variant's name.
        results: Its per-seed `training.Result`s, in seed order.
        mean: ``{quantity: mean over the seeds}``, quantities from
            `QUANTITIES`.
        std: ``{quantity: sample standard deviation over the seeds}``
            (``ddof=1``; 0.0 for a single seed).
    """

    name: str
    results: list
    mean: dict
    std: dict

    @property
    def seeds(self) -> int:
        """The number of seeds."""
        return len(self.results)


def summarize(results) -> list[Summary]:
    """Groups per-seed results by variant: mean and std over the seeds.

    The standard deviation is the sample one (``ddof=1``), the spread one
    would expect between two runs that differ only in the seed; with one
    seed it is 0.0.

    Args:
        results: `training.Result`s (any order; each has ``name`` and
            ``seed``).

    Returns:
        One `Summary` per variant, in the order of first appearance.

    Example:
    >>> from keras_regkit.demo.training import Result
    >>> runs = [Result("a", 1.0, 0.9, t, 10, 5, 2.0, {}, seed=s)
    ...         for s, t in enumerate([0.8, 0.9])]
    >>> (summary,) = summarize(runs)
    >>> round(summary.mean["gap"], 3), round(summary.std["test_acc"], 4)
    (0.15, 0.0707)
    """
    groups: dict[str, list] = {}
    for result in results:
        groups.setdefault(result.name, []).append(result)
    summaries = []
    for name, group in groups.items():
        group = sorted(group, key=lambda r: r.seed)
        mean, std = {}, {}
        for quantity, _ in QUANTITIES:
            values = np.array([float(getattr(r, quantity)) for r in group])
            mean[quantity] = float(values.mean())
            std[quantity] = (
                float(values.std(ddof=1)) if len(values) > 1 else 0.0
            )
        summaries.append(Summary(name, group, mean, std))
    return summaries


def format_table(summaries) -> str:
    """The summaries as a Markdown table of "mean ± std" cells.

    Args:
        summaries: `Summary`s (from `summarize`), one row each.

    Returns:
        The table, one line per row, without a final newline.
    """
    rows = [
        (
            s.name,
            *(
                f"{_FORMATS[q].format(s.mean[q])} ± "
                f"{_FORMATS[q].format(s.std[q]).lstrip('+')}"
                for q, _ in QUANTITIES
            ),
        )
        for s in summaries
    ]
    widths = [
        max(len(h), *(len(row[i]) for row in rows))
        for i, h in enumerate(TABLE_COLUMNS)
    ]

    def line(cells):
        return (
            "| "
            + " | ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ("-" if i == 0 else ":")
            for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(TABLE_COLUMNS), rule, *map(line, rows)])


def plot_learning_curves(summaries, path: str) -> str:
    """Small multiples: training vs validation loss, one line per seed.

    Returns:
        ``path``, where the PNG was written.
    """
    columns = min(4, len(summaries))
    rows = -(-len(summaries) // columns)
    figure, axes = plt.subplots(
        rows,
        columns,
        figsize=(3.6 * columns, 3 * rows),
        squeeze=False,
        sharey=True,
    )
    for ax, summary in zip(axes.flat, summaries, strict=False):
        for i, result in enumerate(summary.results):
            epochs = range(1, len(result.history["xent"]) + 1)
            first = i == 0
            ax.plot(
                epochs,
                result.history["xent"],
                color="tab:blue",
                alpha=0.7,
                lw=1,
                label="train" if first else None,
            )
            ax.plot(
                epochs,
                result.history["val_xent"],
                color="tab:orange",
                alpha=0.7,
                lw=1,
                label="validation" if first else None,
            )
        ax.set_title(
            f"{summary.name}\ngap {summary.mean['gap']:+.3f} ± "
            f"{summary.std['gap']:.3f}",
            fontsize=10,
        )
        ax.set_xlabel("epoch")
        ax.set_yscale("log")
    for ax in axes.flat[len(summaries) :]:
        ax.axis("off")
    for row in axes:
        row[0].set_ylabel("cross-entropy")
    axes[0][0].legend(fontsize=8)
    figure.suptitle(
        f"Training vs validation loss (one line per seed, {_seeds(summaries)})"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_gaps(summaries, path: str) -> str:
    """Bar chart of the mean generalization gap, error bars one std.

    The dots are the individual seeds.

    Returns:
        ``path``, where the PNG was written.
    """
    figure, ax = plt.subplots(figsize=(max(7.0, 1.1 * len(summaries) + 2.5), 4))
    positions = np.arange(len(summaries))
    means = np.array([s.mean["gap"] for s in summaries])
    stds = np.array([s.std["gap"] for s in summaries])
    ax.bar(
        positions,
        means,
        yerr=stds,
        capsize=6,
        color="tab:blue",
        alpha=0.75,
        error_kw={"elinewidth": 1.5, "ecolor": "black"},
    )
    for position, summary in zip(positions, summaries, strict=True):
        gaps = [r.gap for r in summary.results]
        ax.plot(
            np.full(len(gaps), position) + 0.22,
            gaps,
            "o",
            color="black",
            markersize=3,
        )
    for position, mean, std in zip(positions, means, stds, strict=True):
        ax.annotate(  # in a row at the top, clear of bars, error bars, dots
            f"{mean:.3f}\n± {std:.3f}",
            (position, 0.97),
            xycoords=("data", "axes fraction"),
            ha="center",
            va="top",
            fontsize=8,
        )
    ax.set_xticks(positions, [s.name for s in summaries], rotation=20)
    ax.set_ylabel("train acc − test acc")
    every = np.array([r.gap for s in summaries for r in s.results])
    low = min(0.0, float(np.min(means - stds)), float(every.min()))
    high = max(float(np.max(means + stds)), float(every.max()), 0.01)
    margin = 0.05 * (high - low) if low < 0 else 0.0
    ax.set_ylim(low - margin, high + 0.3 * (high - low))  # room for labels
    ax.set_title(
        f"Generalization gap: mean ± std over {_seeds(summaries)} "
        "(dots: single seeds; lower is better)"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _seeds(summaries) -> str:
    """``"1 seed"`` or ``"N seeds"``, the most seeds of any variant."""
    seeds = max(s.seeds for s in summaries)
    return f"{seeds} seed" + ("s" if seeds > 1 else "")
