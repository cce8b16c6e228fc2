"""Benchmark: the time of a SAM step over the time of a plain step.

SAM takes two forward-backward passes per step, so the floor is about 2x;
the target is at most 2.1x (the perturbation, its norm and the snapshot
of the non-trainable state cost little beside two passes).

The model: a small CNN with BatchNormalization and dropout (about 0.1 M
parameters) on 32x32x3 images, batch 128, SGD with momentum, sparse
categorical cross-entropy, an L2 penalty on the kernels. The plain model
and the SAM-wrapped ones (SAM, ASAM, SAM with 4 micro-batches) are
compiled once and warmed up; then each round times ``--steps`` single
steps (``train_on_batch``) of every variant, interleaved. The script
prints the median step of each variant, the median over rounds of the
per-round ratio to the plain step, and the quickest step of each with
its ratio to plain's quickest (on a shared machine the quickest steps
are the least disturbed by other load). Any Keras backend
(``KERAS_BACKEND``).

Run: python bench/bench_sam.py [--rounds 5] [--steps 8]
"""

import argparse
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _machine  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_regkit as rk  # noqa: E402

BATCH = 128


def cnn():
    l2 = keras.regularizers.L2(5e-4)
    blocks = []
    for filters in (32, 64, 64):
        blocks += [
            keras.layers.Conv2D(
                filters,
                3,
                padding="same",
                use_bias=False,
                kernel_regularizer=l2,
            ),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(),
        ]
    return keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            *blocks[:-1],
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(10, kernel_regularizer=l2),
        ]
    )


VARIANTS = {
    "plain": lambda model: model,
    "SAM": lambda model: rk.training.SAM(model, rho=0.05),
    "ASAM": lambda model: rk.training.SAM(model, rho=0.5, adaptive=True),
    "SAM, 4 micro-batches": lambda model: rk.training.SAM(
        model, rho=0.05, micro_batches=4
    ),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH * args.steps, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, size=len(x))

    _machine.print_header()
    models = {}
    for name, wrap in VARIANTS.items():
        keras.utils.set_random_seed(0)
        model = wrap(cnn())
        model.compile(
            keras.optimizers.SGD(0.05, momentum=0.9),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        model.fit(x[: 2 * BATCH], y[: 2 * BATCH], batch_size=BATCH, verbose=0)
        models[name] = model
    params = models["plain"].count_params()
    print(
        f"CNN: {params:,} parameters, batch {BATCH}, {args.steps} steps/round"
    )

    # Interleaved: each round runs every variant for `steps` steps, one
    # `train_on_batch` at a time, and keeps each step's time.
    batches = [
        (x[i : i + BATCH], y[i : i + BATCH]) for i in range(0, len(x), BATCH)
    ]
    times = {name: [] for name in models}
    per_round = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            steps = []
            for xb, yb in batches:
                steps.append(_machine.seconds(model.train_on_batch, xb, yb))
            times[name] += steps
            per_round[name].append(statistics.median(steps))

    plain, fastest = per_round["plain"], min(times["plain"])
    print(
        f"{'variant':<22} {'ms/step':>8} {'ratio':>6} "
        f"{'fastest ms':>10} {'ratio':>6}"
    )
    for name in models:
        ratios = [t / p for t, p in zip(per_round[name], plain, strict=True)]
        print(
            f"{name:<22} {1000 * statistics.median(times[name]):8.1f} "
            f"{statistics.median(ratios):5.2f}x "
            f"{1000 * min(times[name]):10.1f} "
            f"{min(times[name]) / fastest:5.2f}x"
        )
    print(
        "ms/step: median step; ratio: median over rounds of the per-round "
        "median ratio to plain; fastest: the quickest step (least disturbed "
        "by other load) and its ratio to plain's quickest."
    )


if __name__ == "__main__":
    main()
