"""Helpers shared by the demo tests: a table's rows, PNG checks, results."""

import numpy as np
from PIL import Image

from keras_regkit.demo import training


def table_rows(output):
    lines = [line for line in output.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in lines[1:]
    ]
    return header, rows


def mean_std(cell):
    mean, std = cell.split(" ± ")
    return float(mean), float(std)


def assert_png(path):
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and min(image.size) > 200
        assert np.asarray(image.convert("L")).std() > 5  # not blank


def fake_results(seeds=(3, 4, 5), names=("none", "sam")):
    """Per-seed results with random numbers, variants interleaved."""
    rng = np.random.default_rng(1)
    results = []
    for seed in seeds:
        for name in names:
            epochs = int(rng.integers(2, 6))
            results.append(
                training.Result(
                    name,
                    train_acc=float(rng.uniform(0.9, 1.0)),
                    val_acc=float(rng.uniform(0.8, 0.95)),
                    test_acc=float(rng.uniform(0.8, 0.95)),
                    epochs_run=epochs,
                    best_epoch=1,
                    seconds=float(rng.uniform(1, 9)),
                    history={
                        "xent": list(rng.uniform(0.1, 1, epochs)),
                        "val_xent": list(rng.uniform(0.1, 1, epochs)),
                    },
                    seed=seed,
                )
            )
    return results
