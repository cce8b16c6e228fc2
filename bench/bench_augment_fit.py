"""Benchmark: the ImageNet policy at 224 as a user writes it, through `fit`.

What `model.fit` sees: whole epochs, each through a new iterator over the
dataset (startup included, as Keras makes one per epoch for a finite
dataset), the pipeline written as the README writes it, with nothing
added. Source: 256x256 uint8 images in memory with integer labels, batch
64; the model is a global average pool and a 10-way dense layer, so the
input pipeline is what is measured. Variants:

* ours: ``Pipeline([RandomResizedCrop(224, 224), RandomFlip, brightness /
  contrast / saturation 0.4])(ds)`` as returned (it ends with a prefetch);
* ours without its final prefetch (``prefetch=False``): what the default
  brings;
* albumentations 2 inside ``tf.data`` (``tf.numpy_function``,
  ``num_parallel_calls=AUTOTUNE``), ending with ``prefetch(AUTOTUNE)`` as
  TensorFlow's guide writes it, and without it;
* a lower bound of the policy's cost with TensorFlow's kernels
  (``bench_augment_sizes.bound``: one ``tf.image.crop_and_resize`` per
  batch with the flip folded in, one fused colour pass without the
  contrast's mean), with a prefetch;
* the floor: cast + ``tf.image.resize`` to 224, with a prefetch.

Each variant trains ``--epochs`` epochs per round (the first epoch of its
first round, which compiles, is left out); rounds alternate the variants.
The script prints the median epoch time and images/s, the median of the
per-round ratios ``it / ours`` (above 1: ours is faster) and the process
CPU time per image, with the CPU model, oneDNN and the load average.

Run:
    python bench/bench_augment_fit.py                # 157 s measured
    python bench/bench_augment_fit.py --batches 10 --epochs 2 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _machine  # noqa: E402
import bench_augment_sizes as sizes  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_regkit import augment as rka  # noqa: E402

AUTOTUNE = tf.data.AUTOTUNE
SIZE = 224
OURS = "ours, as returned"


def ours(prefetch):
    pipeline = rka.Pipeline(sizes.policy_ops("imagenet", SIZE), seed=0)
    return lambda ds: pipeline(ds, prefetch=prefetch)


def albumentations(prefetch):
    fn, reason = sizes.albumentations_transform("imagenet", SIZE)
    if fn is None:
        return None, reason

    def augment(images, labels):
        out = tf.numpy_function(fn, [images], tf.float32)
        out.set_shape([sizes.BATCH, SIZE, SIZE, 3])
        return out, labels

    def build(ds):
        ds = ds.map(augment, num_parallel_calls=AUTOTUNE)
        return ds.prefetch(AUTOTUNE) if prefetch else ds

    return build, None


def floor(ds):
    def cast(images, labels):
        images = tf.cast(images, tf.float32) * (1.0 / 255.0)
        return tf.image.resize(images, (SIZE, SIZE)), labels

    return ds.map(cast, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)


def bound(ds):
    return sizes.bound(SIZE)(ds).prefetch(AUTOTUNE)


def variants():
    """The compared pipelines: name -> dataset builder (or a reason)."""
    found = {OURS: ours(True), "ours, prefetch=False": ours(False)}
    for prefetch, suffix in ((True, " + prefetch"), (False, "")):
        build, reason = albumentations(prefetch)
        name = f"albumentations in tf.data{suffix}"
        if build is None:
            print(f"  skipped {name}: {reason}")
        else:
            found[name] = build
    found[sizes.BOUND + " + prefetch"] = bound
    found["floor: cast + tf.image.resize + prefetch"] = floor
    return found


class EpochClock(keras.callbacks.Callback):
    """Wall and process CPU seconds of every epoch."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = (time.perf_counter(), _machine.cpu_seconds())

    def on_epoch_end(self, epoch, logs=None):
        wall, cpu = self._start
        self.epochs.append(
            (time.perf_counter() - wall, _machine.cpu_seconds() - cpu)
        )


def model():
    network = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10),
        ]
    )
    network.compile(
        "sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    return network


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40, help="per epoch")
    parser.add_argument("--epochs", type=int, default=3, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    _machine.print_header()
    print(f"oneDNN: {_machine.onednn_state()}; load average {os.getloadavg()}")
    print(f"CPU allocator: {_machine.cpu_allocator()}")
    rng = np.random.default_rng(0)
    pool = rng.integers(0, 256, (sizes.POOL, 256, 256, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, sizes.POOL)
    source = tf.data.Dataset.from_tensor_slices((pool, labels)).repeat()
    # Finite: fit makes a new iterator every epoch, startup included.
    source = source.batch(sizes.BATCH, drop_remainder=True).take(args.batches)
    built = {
        name: (build(source), model()) for name, build in variants().items()
    }
    for data, network in built.values():  # Compiles: left out.
        network.fit(data, epochs=1, verbose=0)
    epochs = {name: [] for name in built}
    for _ in range(args.rounds):
        for name, (data, network) in built.items():
            clock = EpochClock()
            network.fit(data, epochs=args.epochs, verbose=0, callbacks=[clock])
            epochs[name].extend(clock.epochs)
    report(epochs, args)


def report(epochs, args):
    images = args.batches * sizes.BATCH
    print(
        f"\nImageNet policy at {SIZE} from 256x256 uint8, batch "
        f"{sizes.BATCH}, {args.batches} batches an epoch, "
        f"{args.rounds} rounds x {args.epochs} epochs through model.fit"
    )
    print(
        f"{'variant':52s} {'epoch s':>8s} {'images/s':>9s} {'it / ours':>10s}"
        f" {'CPU ms/img':>11s} {'it / ours':>10s}"
    )
    wall = {name: [e[0] for e in runs] for name, runs in epochs.items()}
    cpu = {name: [e[1] for e in runs] for name, runs in epochs.items()}
    for name in epochs:
        seconds = statistics.median(wall[name])
        print(
            f"{name:52s} {seconds:8.3f} {images / seconds:9,.0f} "
            f"{_machine.median_ratio(wall[name], wall[OURS]):9.2f}x "
            f"{1e3 * statistics.median(cpu[name]) / images:11.3f} "
            f"{_machine.median_ratio(cpu[name], cpu[OURS]):9.2f}x"
        )


if __name__ == "__main__":
    main()
