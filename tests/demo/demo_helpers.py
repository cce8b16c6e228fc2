"""Helpers shared by the demo tests: PNG checks, constructed results."""

import numpy as np
from PIL import Image

from keras_regkit import diagnostics


def assert_png(path):
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and min(image.size) > 200
        assert np.asarray(image.convert("L")).std() > 5  # not blank


def fake_curve(points=(38, 75, 150, 300), seeds=(0, 1)):
    """A learning curve with a shrinking gap, as high variance looks."""
    rng = np.random.default_rng(0)
    shape = (len(points), len(seeds))
    falling = np.linspace(0.6, 0.3, len(points))[:, None]
    return diagnostics.LearningCurveResult(
        points=list(points),
        seeds=list(seeds),
        train=0.01 * rng.random(shape),
        validation=falling + 0.01 * rng.random(shape),
        test=falling - 0.1 + 0.01 * rng.random(shape),
        error="error (1 - accuracy)",
    )


def fake_comparison(names=("none", "l2", "dropout"), seeds=(0, 1, 2)):
    """Variants on the same seeds: each later one 0.05 better."""
    rng = np.random.default_rng(1)
    errors = {
        split: {
            name: 0.3 - 0.05 * i + 0.01 * rng.random(len(seeds))
            for i, name in enumerate(names)
        }
        for split in ("train", "validation", "test")
    }
    return diagnostics.ComparisonResult(
        names=list(names),
        seeds=list(seeds),
        errors=errors,
        error="error (1 - accuracy)",
    )


def fake_sweep(param="dropout_rate", values=(0.1, 0.4, 0.8), seeds=(0,)):
    rng = np.random.default_rng(2)
    shape = (len(values), len(seeds))
    return diagnostics.ValidationCurveResult(
        points=list(values),
        seeds=list(seeds),
        train=rng.random(shape),
        validation=rng.random(shape),
        test=rng.random(shape),
        error="error (1 - accuracy)",
        param=param,
    )
