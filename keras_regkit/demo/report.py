"""The demo's report: the results table and the two pictures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

TABLE_COLUMNS = (
    "variant",
    "train acc",
    "val acc",
    "test acc",
    "gap",
    "epochs",
    "best epoch",
    "time s",
)


def format_table(results) -> str:
    """The results as a Markdown table (readable in a terminal too).

    Args:
        results: `training.Result`s, one row each.

    Returns:
        The table, one line per row, without a final newline.
    """
    rows = [
        (
            r.name,
            f"{r.train_acc:.3f}",
            f"{r.val_acc:.3f}",
            f"{r.test_acc:.3f}",
            f"{r.gap:+.3f}",
            str(r.epochs_run),
            str(r.best_epoch),
            f"{r.seconds:.1f}",
        )
        for r in results
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


def plot_learning_curves(results, path: str) -> str:
    """Small multiples: training vs validation loss for every variant.

    Returns:
        ``path``, where the PNG was written.
    """
    columns = min(3, len(results))
    rows = -(-len(results) // columns)
    figure, axes = plt.subplots(
        rows,
        columns,
        figsize=(4 * columns, 3 * rows),
        squeeze=False,
        sharey=True,
    )
    for ax, result in zip(axes.flat, results, strict=False):
        epochs = range(1, len(result.history["xent"]) + 1)
        ax.plot(epochs, result.history["xent"], label="train")
        ax.plot(epochs, result.history["val_xent"], label="validation")
        ax.axvline(result.best_epoch, color="grey", linestyle=":", lw=1)
        ax.set_title(f"{result.name} (gap {result.gap:+.3f})")
        ax.set_xlabel("epoch")
        ax.set_yscale("log")
    for ax in axes.flat[len(results) :]:
        ax.axis("off")
    axes[0][0].set_ylabel("cross-entropy")
    axes[0][0].legend()
    figure.suptitle(
        "Training vs validation loss (dotted: best validation accuracy)"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_gaps(results, path: str) -> str:
    """A bar chart of the generalization gap of every variant.

    Returns:
        ``path``, where the PNG was written.
    """
    figure, ax = plt.subplots(figsize=(1.3 * len(results) + 2, 3.5))
    names = [r.name for r in results]
    gaps = [r.gap for r in results]
    bars = ax.bar(names, gaps, color="tab:blue")
    ax.bar_label(bars, fmt="%.3f")
    ax.set_ylabel("train acc − test acc")
    ax.set_title("Generalization gap (lower is better)")
    ax.tick_params(axis="x", rotation=20)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
