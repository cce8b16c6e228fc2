"""Training-step cost of our regularizers against Keras's, side by side.

Variants (same CNN, same data, `model.fit` on CPU):
  keras L2        keras.regularizers.L2(1e-4) on every kernel (the anchor)
  rk L2           rk.regularizers.L2(1e-4)
  rk L2 textbook  rk.regularizers.L2(lam=..., num_examples=m), same strength
  rk L2 schedule  rk.regularizers.L2(Linear ramp) + ScheduleCallback
  none            no regularizer (the floor)

Rounds are interleaved (in a shuffled order each round); each round times
one epoch per variant after a warm-up epoch; the printed ratio is the
median over rounds of (variant time / keras L2 time).

Run:
    python bench/bench_regularizers.py [--rounds 7]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_regkit as rk  # noqa: E402

N, BATCH = 4096, 128


def build(regularizer):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(
                32, 3, activation="relu", kernel_regularizer=regularizer
            ),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(
                64, 3, activation="relu", kernel_regularizer=regularizer
            ),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(
                256, activation="relu", kernel_regularizer=regularizer
            ),
            keras.layers.Dense(10, kernel_regularizer=regularizer),
        ]
    )
    model.compile(
        "adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    return model


def variants():
    ramp = rk.schedules.Linear(0.0, 1e-4, duration=3)
    return {
        "keras L2": (build(keras.regularizers.L2(1e-4)), []),
        "rk L2": (build(rk.regularizers.L2(1e-4)), []),
        "rk L2 textbook": (
            build(rk.regularizers.L2(lam=2e-4 * N, num_examples=N)),
            [],
        ),
        "rk L2 schedule": (
            build(rk.regularizers.L2(ramp)),
            [rk.callbacks.ScheduleCallback()],
        ),
        "none": (build(None), []),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((N, 32, 32, 3), dtype="float32")
    y = rng.integers(0, 10, N)
    models = variants()
    for model, callbacks in models.values():  # warm-up: trace and compile
        model.fit(
            x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=callbacks
        )
    times = {name: [] for name in models}
    order = list(models)
    for _ in range(args.rounds):
        rng.shuffle(order)  # no variant always runs first or last
        for name in order:
            model, callbacks = models[name]
            start = time.perf_counter()
            model.fit(
                x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=callbacks
            )
            times[name].append(time.perf_counter() - start)
    anchor = times["keras L2"]
    print(f"{N} images 32x32x3, batch {BATCH}, {args.rounds} rounds")
    print(f"{'variant':<16}{'s/epoch':>10}{'x keras L2':>12}")
    for name, samples in times.items():
        ratio = statistics.median(
            t / a for t, a in zip(samples, anchor, strict=True)
        )
        print(f"{name:<16}{statistics.median(samples):>10.3f}{ratio:>12.3f}")


if __name__ == "__main__":
    main()
