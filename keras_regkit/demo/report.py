"""The demo's pictures: the three results drawn by their own ``plot``.

The tables are the results' own ``print`` (see `cli.run`); this module
only puts each plot in a titled figure and writes it as a PNG.
"""

from __future__ import annotations

import os

import matplotlib

from keras_regkit import diagnostics

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

LEARNING_CURVE = "learning_curve.png"
COMPARISON = "comparison.png"
VALIDATION_CURVE = "validation_curve.png"


def _write(draw, title: str, path: str, size=(6.4, 4.0)) -> str:
    figure, ax = plt.subplots(figsize=size, layout="constrained")
    draw(ax)
    ax.set_title(title, fontsize=10)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_curve(result, name: str, out: str) -> str:
    """A learning or validation curve of variant ``name``, written as
    `LEARNING_CURVE` or `VALIDATION_CURVE`; returns the PNG's path."""
    learning = isinstance(result, diagnostics.LearningCurveResult)
    return _write(
        lambda ax: result.plot(ax=ax),
        f"{'Learning' if learning else 'Validation'} curve of {name!r}: "
        f"mean ± std over {len(result.seeds)} seed(s)",
        os.path.join(out, LEARNING_CURVE if learning else VALIDATION_CURVE),
    )


def plot_comparison(comparison, out: str, split: str = "test") -> str:
    """Each variant's paired difference from the baseline, with its
    confidence interval, on ``split``; returns the PNG's path."""
    size = (6.4, 1.2 + 0.45 * len(comparison.names))
    return _write(
        lambda ax: comparison.plot(split=split, ax=ax),
        f"Paired differences, {len(comparison.seeds)} seeds (left of 0: "
        "better than the baseline)",
        os.path.join(out, COMPARISON),
        size=size,
    )
