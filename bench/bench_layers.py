"""Side-by-side cost of the dropout-family layers (ratios, one process).

Part 1 trains the same small CNN (32x32x3 inputs, batch 128) with nothing,
`keras.layers.Dropout`, `keras.layers.SpatialDropout2D`, and each of our
layers in the same place (after the second conv block), and prints the
median ms per training step and ratios to the plain model and to
SpatialDropout2D. The variants run interleaved in rounds after warm-up;
ratios are medians of per-round ratios (absolute times drift on shared
machines).

Part 2 compares `mc_predict(model, x, samples=30)` with a Python loop of
30 ``model(x, training=True)`` calls on the same model.

Run: python bench/bench_layers.py [--steps 20] [--rounds 5]
"""

from __future__ import annotations

import argparse
import logging
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_regkit as rk  # noqa: E402

# TF warns about "retracing" when several models' step functions alternate;
# each is traced once (during warm-up).
logging.getLogger("tensorflow").setLevel(logging.ERROR)

VARIANTS = {
    "plain": lambda: None,
    "keras Dropout(0.1)": lambda: keras.layers.Dropout(0.1, seed=0),
    "keras SpatialDropout2D(0.1)": lambda: keras.layers.SpatialDropout2D(
        0.1, seed=0
    ),
    "DropBlock2D(0.1, 3)": lambda: rk.layers.DropBlock2D(0.1, 3, seed=0),
    "DropPath(0.1)": lambda: rk.layers.DropPath(0.1, seed=0),
    "MCDropout(0.1)": lambda: rk.layers.MCDropout(0.1, seed=0),
}


def cnn(extra):
    inputs = keras.Input((32, 32, 3))
    h = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(64, 3, padding="same", activation="relu")(h)
    h = keras.layers.MaxPooling2D()(h)
    if extra is not None:
        h = extra(h)
    h = keras.layers.Conv2D(64, 3, padding="same", activation="relu")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    outputs = keras.layers.Dense(10)(h)
    model = keras.Model(inputs, outputs)
    model.compile(
        "adam",
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def time_steps(model, x, y, steps):
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return (time.perf_counter() - start) / steps * 1e3


def training_cost(steps, rounds):
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(128, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, size=(128,))
    models = {}
    for name, make in VARIANTS.items():
        keras.utils.set_random_seed(0)
        models[name] = cnn(make())
        time_steps(models[name], x, y, 3)  # trace and warm up
    times = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            times[name].append(time_steps(model, x, y, steps))
    plain = np.array(times["plain"])
    spatial = np.array(times["keras SpatialDropout2D(0.1)"])
    print(f"\nTraining step, batch 128, {rounds} rounds x {steps} steps")
    print(f"{'variant':30s} {'ms/step':>8s} {'x plain':>8s} {'x spatial':>9s}")
    for name, values in times.items():
        values = np.array(values)
        print(
            f"{name:30s} {np.median(values):8.1f} "
            f"{np.median(values / plain):8.2f} "
            f"{np.median(values / spatial):9.2f}"
        )


def mc_cost(rounds, samples=30):
    keras.utils.set_random_seed(0)
    model = cnn(rk.layers.MCDropout(0.2, seed=0))
    x = np.random.default_rng(1).uniform(size=(32, 32, 32, 3))
    x = x.astype("float32")

    def loop():
        outputs = [
            keras.ops.convert_to_numpy(model(x, training=True))
            for _ in range(samples)
        ]
        return np.mean(outputs, 0), np.std(outputs, 0)

    def vectorised():
        return rk.layers.mc_predict(model, x, samples=samples)

    loop()
    vectorised()
    ratios, loop_ms, ours_ms = [], [], []
    for _ in range(rounds):
        start = time.perf_counter()
        loop()
        middle = time.perf_counter()
        vectorised()
        end = time.perf_counter()
        loop_ms.append((middle - start) * 1e3)
        ours_ms.append((end - middle) * 1e3)
        ratios.append((middle - start) / (end - middle))
    print(f"\nMC prediction, 32 examples x {samples} samples, {rounds} rounds")
    print(f"{'variant':40s} {'ms':>8s}")
    print(f"{'loop of model(x, training=True)':40s} {np.median(loop_ms):8.1f}")
    print(f"{'mc_predict (one repeated batch)':40s} {np.median(ours_ms):8.1f}")
    print(f"speed-up (median of per-round ratios): {np.median(ratios):.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    training_cost(args.steps, args.rounds)
    mc_cost(args.rounds)


if __name__ == "__main__":
    main()
