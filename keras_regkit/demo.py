"""The regularization showdown: one network, trained several ways, on real data.

Run ``python -m keras_regkit.demo`` (or ``keras-regkit-demo``). It trains the
same small residual CNN on a deliberately small slice of scikit-learn's
bundled handwritten digits (1,797 real 8x8 images, no download) once per
variant:

=================  ========================================================
``none``           no regularization
``l2``             L2 in the textbook form, cost = loss + λ/(2m)·Σ‖w‖²
``dropout``        Dropout on the dense layer, DropPath on the residual
                   branch, DropBlock2D on the feature map (its rate ramped
                   up by a schedule)
``early_stopping`` `EarlyStopping` with ``restore_best_weights=True``
``augment``        an `augment.Pipeline` of small shifts, rotations, zooms
``combined``       all of the above
=================  ========================================================

with the same seeds and epoch budget, then prints a table (train,
validation and test accuracy, the generalization gap train − test, epochs
run, best epoch, wall time) and writes two PNGs: the learning curves of
every variant and a bar chart of the gaps.

Bad flags exit with a one-line error and status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time

VARIANTS = {
    "none": "no regularization",
    "l2": "L2, textbook lambda/(2m) form",
    "dropout": "Dropout + DropPath + DropBlock2D (scheduled)",
    "early_stopping": "EarlyStopping on val_accuracy, restore best weights",
    "augment": "augment.Pipeline (shift, rotate, zoom)",
    "combined": "all of the above",
}
TECHNIQUES = {
    "none": set(),
    "l2": {"l2"},
    "dropout": {"dropout"},
    "early_stopping": {"early_stopping"},
    "augment": {"augment"},
    "combined": {"l2", "dropout", "early_stopping", "augment"},
}
DEFAULT_EPOCHS = 60
QUICK_EPOCHS = 8
TRAIN_SIZE = 300
VALIDATION_SIZE = 300
BATCH_SIZE = 32
L2_LAMBDA = 1.0
PATIENCE = 15


class DemoError(Exception):
    """A problem with the user's flags or files: one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise DemoError(message)


def parse_args(argv=None) -> argparse.Namespace:
    """Parses and checks the command line.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The parsed flags, with ``variants`` as a list.

    Raises:
        DemoError: For an unknown flag or variant, a bad number.
    """
    parser = _Parser(
        prog="keras-regkit-demo",
        description="Train one network several ways and compare the "
        "generalization gap.",
    )
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--epochs", type=int, help="epoch budget per variant")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="regkit-demo", help="output folder")
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help=f"comma-separated, from: {', '.join(VARIANTS)}",
    )
    parser.add_argument(
        "--data",
        help="an .npz with `images` (N, H, W[, C]) and `labels` (N,) arrays "
        "instead of the digits",
    )
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = QUICK_EPOCHS if args.quick else DEFAULT_EPOCHS
    if args.epochs < 1:
        raise DemoError(f"--epochs must be >= 1, got {args.epochs}")
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown or not names:
        raise DemoError(
            f"unknown variant(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(VARIANTS)}"
        )
    args.variants = list(dict.fromkeys(names))
    return args


def prepare_out_dir(path: str) -> str:
    """Creates the output folder and checks that it can be written."""
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".regkit-write-test")
        with open(probe, "w") as handle:
            handle.write("ok")
        os.remove(probe)
    except OSError as error:
        raise DemoError(f"--out {path!r} cannot be written: {error}") from None
    return path


@dataclasses.dataclass
class Splits:
    """Train / validation / test arrays, images float32 in [0, 1]."""

    x_train: object
    y_train: object
    x_val: object
    y_val: object
    x_test: object
    y_test: object
    num_classes: int
    source: str


def _load_arrays(path):
    import numpy as np

    if path is None:
        from sklearn.datasets import load_digits

        digits = load_digits()
        return digits.images / 16.0, digits.target, "scikit-learn digits"
    try:
        with np.load(path) as data:
            images, labels = data["images"], data["labels"]
    except (OSError, KeyError, ValueError) as error:
        raise DemoError(
            f"--data {path!r}: expected an .npz with `images` and `labels` "
            f"({error})"
        ) from None
    if images.ndim not in (3, 4) or len(images) != len(labels):
        raise DemoError(
            f"--data {path!r}: `images` must be (N, H, W[, C]) and `labels` "
            f"(N,); got {images.shape} and {labels.shape}"
        )
    images = images.astype("float32")
    if images.max() > 1.0:
        images = images / 255.0
    return images, labels, path


def load_data(path: str | None, seed: int) -> Splits:
    """Loads the digits (or ``path``) and splits them with a fixed seed.

    The training set is deliberately small (the overfitting regime); the
    split is stratified by class.
    """
    import numpy as np
    from sklearn.model_selection import train_test_split

    images, labels, source = _load_arrays(path)
    if images.ndim == 3:
        images = images[..., None]
    images = images.astype("float32")
    _, labels = np.unique(labels, return_inverse=True)
    labels = labels.astype("int32")
    if len(labels) < TRAIN_SIZE + VALIDATION_SIZE + 10:
        raise DemoError(
            f"--data: need at least {TRAIN_SIZE + VALIDATION_SIZE + 10} "
            f"examples, got {len(labels)}"
        )
    x_train, x_rest, y_train, y_rest = train_test_split(
        images,
        labels,
        train_size=TRAIN_SIZE,
        random_state=seed,
        stratify=labels,
    )
    x_val, x_test, y_val, y_test = train_test_split(
        x_rest,
        y_rest,
        train_size=VALIDATION_SIZE,
        random_state=seed,
        stratify=y_rest,
    )
    return Splits(
        x_train,
        y_train,
        x_val,
        y_val,
        x_test,
        y_test,
        int(labels.max()) + 1,
        source,
    )


def build_model(splits: Splits, techniques: set, epochs: int, seed: int):
    """The residual CNN, with the regularization of ``techniques``.

    Returns:
        ``(model, callbacks)``: the compiled model and the callbacks its
        regularization needs (`ScheduleCallback` for the DropBlock ramp).
    """
    import keras

    import keras_regkit as rk

    keras.utils.set_random_seed(seed)
    regularizer = None
    if "l2" in techniques:
        regularizer = rk.regularizers.L2(
            lam=L2_LAMBDA, num_examples=len(splits.x_train)
        )
    dropout = "dropout" in techniques

    def conv(filters, **kwargs):
        return keras.layers.Conv2D(
            filters,
            3,
            padding="same",
            kernel_regularizer=regularizer,
            **kwargs,
        )

    inputs = keras.Input(splits.x_train.shape[1:])
    x = conv(32, activation="relu")(inputs)
    branch = conv(32, activation="relu")(x)
    branch = conv(32)(branch)
    if dropout:
        branch = rk.layers.DropPath(0.1, seed=seed)(branch)
    x = keras.layers.Activation("relu")(keras.layers.Add()([x, branch]))
    if dropout:
        ramp = rk.schedules.Linear(0.0, 0.1, duration=max(epochs // 2, 1))
        x = rk.layers.DropBlock2D(ramp, block_size=3, seed=seed + 1)(x)
    x = conv(64, strides=2, activation="relu")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(
        128, activation="relu", kernel_regularizer=regularizer
    )(x)
    if dropout:
        x = keras.layers.Dropout(0.4, seed=seed + 2)(x)
    outputs = keras.layers.Dense(
        splits.num_classes, kernel_regularizer=regularizer
    )(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[
            "accuracy",
            keras.metrics.SparseCategoricalCrossentropy(
                from_logits=True, name="xent"
            ),
        ],
    )
    callbacks = [rk.callbacks.ScheduleCallback(log=False)] if dropout else []
    return model, callbacks


def training_dataset(splits: Splits, augment: bool, seed: int):
    """Shuffled batches of the training set, augmented if asked."""
    import tensorflow as tf

    import keras_regkit as rk

    dataset = (
        tf.data.Dataset.from_tensor_slices((splits.x_train, splits.y_train))
        .shuffle(len(splits.x_train), seed=seed)
        .batch(BATCH_SIZE)
    )
    if augment:
        pipeline = rk.augment.Pipeline(
            [
                rk.augment.RandomTranslation(0.125, 0.125),
                rk.augment.RandomRotation(0.04),
                rk.augment.RandomZoom(0.1),
            ],
            seed=seed,
        )
        dataset = pipeline(dataset)
    return dataset.prefetch(tf.data.AUTOTUNE)


class _Progress:
    """A Keras callback printing one short line per variant and epoch."""

    def __new__(cls, name, epochs, stream):
        import keras

        class Progress(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                stream.write(
                    f"  [{name}] epoch {epoch + 1:>3}/{epochs}  "
                    f"loss {logs.get('xent', float('nan')):.3f}  "
                    f"val_loss {logs.get('val_xent', float('nan')):.3f}  "
                    f"val_acc {logs.get('val_accuracy', float('nan')):.3f}\n"
                )
                stream.flush()

        return Progress()


@dataclasses.dataclass
class Result:
    """What one variant produced."""

    name: str
    train_acc: float
    val_acc: float
    test_acc: float
    epochs_run: int
    best_epoch: int
    seconds: float
    history: dict

    @property
    def gap(self) -> float:
        """Generalization gap: train accuracy minus test accuracy."""
        return self.train_acc - self.test_acc


def train_variant(name, splits, epochs, seed, stream) -> Result:
    """Trains and evaluates one variant."""
    import numpy as np

    import keras_regkit as rk

    techniques = TECHNIQUES[name]
    start = time.perf_counter()
    model, callbacks = build_model(splits, techniques, epochs, seed)
    if "early_stopping" in techniques:
        callbacks.append(
            rk.callbacks.EarlyStopping(
                monitor="val_accuracy",
                patience=PATIENCE,
                restore_best_weights=True,
            )
        )
    history = model.fit(
        training_dataset(splits, "augment" in techniques, seed),
        validation_data=(splits.x_val, splits.y_val),
        epochs=epochs,
        shuffle=False,  # the dataset is already shuffled, with the seed
        verbose=0,
        callbacks=[*callbacks, _Progress(name, epochs, stream)],
    ).history

    def accuracy(x, y):
        return float(
            model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"]
        )

    return Result(
        name=name,
        train_acc=accuracy(splits.x_train, splits.y_train),
        val_acc=accuracy(splits.x_val, splits.y_val),
        test_acc=accuracy(splits.x_test, splits.y_test),
        epochs_run=len(history["loss"]),
        best_epoch=int(np.argmax(history["val_accuracy"])) + 1,
        seconds=time.perf_counter() - start,
        history=history,
    )


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
    """The results as a Markdown table (readable in a terminal too)."""
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
    """Small multiples: training vs validation loss for every variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    """A bar chart of the generalization gap of every variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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


def run(args, stream=None) -> list:
    """Trains every requested variant, prints the table, writes the PNGs."""
    stream = stream or sys.stdout
    out = prepare_out_dir(args.out)
    splits = load_data(args.data, args.seed)
    stream.write(
        f"data: {splits.source}: {len(splits.x_train)} train, "
        f"{len(splits.x_val)} validation, {len(splits.x_test)} test images; "
        f"{args.epochs} epochs per variant, seed {args.seed}\n"
    )
    results = []
    for name in args.variants:
        stream.write(f"{name}: {VARIANTS[name]}\n")
        results.append(
            train_variant(name, splits, args.epochs, args.seed, stream)
        )
    stream.write("\n" + format_table(results) + "\n\n")
    curves = plot_learning_curves(
        results, os.path.join(out, "learning_curves.png")
    )
    gaps = plot_gaps(results, os.path.join(out, "generalization_gap.png"))
    stream.write(f"wrote {curves}\nwrote {gaps}\n")
    return results


def main(argv=None) -> int:
    """Entry point of `python -m keras_regkit.demo` and `keras-regkit-demo`."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        args = parse_args(argv)
        run(args)
    except DemoError as error:
        sys.stderr.write(f"keras-regkit-demo: error: {error}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
