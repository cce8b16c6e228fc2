"""Benchmark: keras_regkit.augment vs Keras 3's preprocessing layers in tf.data.

The reference policy of PERF_NOTES.md on CIFAR-shaped uint8 images, batch
128: horizontal flip, translation 0.125, rotation ±15°, contrast 0.2 and
one 16x16 erased box, output float32 in [0, 1]. Variants run interleaved
in rounds in one process after a warm-up; each round is one pass over the
images (an epoch: a new iterator, its startup included). The script
prints the median images/s and CPU microseconds per image (user + system
time of the process: steadier on a loaded machine) of each, with the
median of the per-round ratios to Keras.

Also MixUp and CutMix (sparse labels, 10 classes) against
``keras.layers.MixUp`` / ``keras.layers.CutMix`` (one-hot labels).

Run:
    python bench/bench_augment.py               # 25,600 images, 5 rounds
    python bench/bench_augment.py --images 50000 --rounds 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _machine  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_regkit import augment as rka  # noqa: E402

AUTOTUNE = tf.data.AUTOTUNE
BATCH = 128
CLASSES = 10


def base_dataset(x, y):
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH)


def floor(x, y):
    def cast(images, labels):
        return tf.cast(images, tf.float32) / 255.0, labels

    return base_dataset(x, y).map(cast, num_parallel_calls=AUTOTUNE)


def keras_policy(x, y):
    layers = [
        keras.layers.RandomFlip("horizontal", seed=1),
        keras.layers.RandomTranslation(0.125, 0.125, seed=2),
        keras.layers.RandomRotation(15 / 360, seed=3),
        keras.layers.RandomContrast(0.2, seed=4),
        keras.layers.RandomErasing(factor=1.0, scale=(0.25, 0.25), seed=5),
    ]

    def augment(images, labels):
        images = tf.cast(images, tf.float32)
        for layer in layers:
            images = layer(images, training=True)
        return images / 255.0, labels

    return base_dataset(x, y).map(augment, num_parallel_calls=AUTOTUNE)


def our_policy(jit_compile):
    return rka.Pipeline(
        [
            rka.RandomFlip("horizontal"),
            rka.RandomTranslation(0.125, 0.125),
            rka.RandomRotation(15 / 360),
            rka.RandomContrast(0.2),
            rka.RandomCutout(16),
        ],
        seed=0,
        jit_compile=jit_compile,
    )


def ours(x, y, jit_compile):
    return our_policy(jit_compile)(base_dataset(x, y))


def keras_mixing(layer_class):
    def build(x, y):
        layer = layer_class(seed=1)

        def mix(images, labels):
            images = tf.cast(images, tf.float32)
            labels = tf.one_hot(labels, CLASSES)
            out = layer({"images": images, "labels": labels}, training=True)
            return out["images"] / 255.0, out["labels"]

        return base_dataset(x, y).map(mix, num_parallel_calls=AUTOTUNE)

    return build


def our_mixing(op):
    def build(x, y):
        return rka.Pipeline([op], seed=0)(base_dataset(x, y))

    return build


def time_dataset(dataset):
    """``(seconds, CPU seconds)`` of one pass (an epoch: a new iterator)."""
    start, cpu = time.perf_counter(), _machine.cpu_seconds()
    for _ in dataset.prefetch(AUTOTUNE):
        pass
    return time.perf_counter() - start, _machine.cpu_seconds() - cpu


def run_group(title, variants, x, y, rounds, reference):
    datasets = {name: build(x, y) for name, build in variants.items()}
    for dataset in datasets.values():  # Warm-up: tracing, XLA compiles.
        time_dataset(dataset.take(8))
    times = {name: [] for name in datasets}
    cpu = {name: [] for name in datasets}
    for _ in range(rounds):
        for name, dataset in datasets.items():
            seconds, cpu_seconds = time_dataset(dataset)
            times[name].append(seconds)
            cpu[name].append(cpu_seconds)
    n = len(x)
    print(f"\n{title} ({n} images, batch {BATCH}, {rounds} rounds)")
    print(
        f"{'variant':44s} {'images/s':>10s} {'vs ' + reference:>12s} "
        f"{'CPU us/img':>11s} {'vs ref (CPU)':>13s}"
    )
    for name in datasets:
        rate = n / statistics.median(times[name])
        ratio = _machine.median_ratio(times[reference], times[name])
        cpu_us = 1e6 * statistics.median(cpu[name]) / n
        cpu_ratio = _machine.median_ratio(cpu[reference], cpu[name])
        print(
            f"{name:44s} {rate:10,.0f} {ratio:11.2f}x "
            f"{cpu_us:11.2f} {cpu_ratio:12.2f}x"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=25_600)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.images, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, CLASSES, (args.images,), dtype=np.int64)
    print(_machine.setup_line())
    run_group(
        "Policy: flip + translate 0.125 + rotate 15 deg + contrast 0.2 + "
        "16x16 erase",
        {
            "Keras layers, mapped over batches": keras_policy,
            "keras_regkit Pipeline (XLA)": lambda x, y: ours(x, y, True),
            "keras_regkit Pipeline (no XLA)": lambda x, y: ours(x, y, False),
            "cast and scale only (floor)": floor,
        },
        x,
        y,
        args.rounds,
        "Keras layers, mapped over batches",
    )
    run_group(
        "CutMix",
        {
            "keras.layers.CutMix": keras_mixing(keras.layers.CutMix),
            "keras_regkit CutMix": our_mixing(rka.CutMix(num_classes=CLASSES)),
        },
        x,
        y,
        args.rounds,
        "keras.layers.CutMix",
    )
    run_group(
        "MixUp",
        {
            "keras.layers.MixUp": keras_mixing(keras.layers.MixUp),
            "keras_regkit MixUp": our_mixing(rka.MixUp(num_classes=CLASSES)),
        },
        x,
        y,
        args.rounds,
        "keras.layers.MixUp",
    )


if __name__ == "__main__":
    main()
