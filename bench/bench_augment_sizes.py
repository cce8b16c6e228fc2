"""Benchmark: augmentation at 32, 224 and 512 pixels, side by side.

Two policies on uint8 images, batch 64, output float32 in [0, 1]:

* ImageNet: random resized crop to ``size`` from ``size * 8 / 7`` (224
  from 256), horizontal flip, brightness / contrast / saturation 0.4;
* CIFAR: horizontal flip, translation 0.125, rotation ±15°, contrast 0.2,
  one erased box of half the side (as ``bench/bench_augment.py``).

Variants: this kit's ``Pipeline`` (XLA), Keras 3 layers in ``tf.data``,
keras-aug, albumentations on one Python thread and inside ``tf.data`` via
``tf.numpy_function`` (``num_parallel_calls=AUTOTUNE``), the floor
(cast, plus ``tf.image.resize`` where the policy changes the size) and,
for the ImageNet policy, a lower bound of the policy's own cost with
TensorFlow's kernels (`bound`: ``tf.image.crop_and_resize`` and one
fused colour pass without the contrast's mean). The
anchors are optional (``pip install -e ".[bench]"``): a missing one is
skipped with a message. Variants run interleaved in rounds in one process
after a warm-up; each round of a tf.data variant is a fresh iterator whose
first batches are timed apart (the startup: instantiating the map
functions, once per epoch in training), the rest is the steady state. The
script prints, per variant, the median images/s and CPU milliseconds per
image (user + system time of the whole process: steadier than wall time
on a loaded machine), each with the median of the per-round ratios
variant ÷ ours (above 1: ours is faster or cheaper), and the startup; with
the CPU model and whether oneDNN is on.

Run:
    python bench/bench_augment_sizes.py                 # a few minutes
    python bench/bench_augment_sizes.py --sizes 224 --policies imagenet \\
        --batches 8 --rounds 5
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
BATCH = 64
POOL = 128  # Distinct images per size, cycled.
OURS = "keras_regkit Pipeline (XLA)"


def _optional(name):
    try:
        return __import__(name), None
    except Exception as error:  # noqa: BLE001 - any import failure skips.
        return None, f"{type(error).__name__}: {error}"


def input_size(policy, size):
    return size * 8 // 7 if policy == "imagenet" else size


# ---------------------------------------------------------------- ours


def policy_ops(policy, size):
    """This kit's ops for ``policy`` at ``size`` pixels."""
    if policy == "imagenet":
        return [
            rka.RandomResizedCrop(size, size),
            rka.RandomFlip("horizontal"),
            rka.RandomBrightness(0.4),
            rka.RandomContrast(0.4),
            rka.RandomSaturation(0.4),
        ]
    return [
        rka.RandomFlip("horizontal"),
        rka.RandomTranslation(0.125, 0.125),
        rka.RandomRotation(15 / 360),
        rka.RandomContrast(0.2),
        rka.RandomCutout(size // 2),
    ]


def ours(policy, size):
    pipeline = rka.Pipeline(policy_ops(policy, size), seed=0, jit_compile=True)
    return lambda ds: pipeline(ds)


# ---------------------------------------------------------------- floor


def floor(policy, size):
    def cast(images):
        images = tf.cast(images, tf.float32) * (1.0 / 255.0)
        if policy == "imagenet":
            images = tf.image.resize(images, (size, size))
        return images

    return lambda ds: ds.map(cast, num_parallel_calls=AUTOTUNE)


# ---------------------------------------------------------------- bound

BOUND = "bound: crop_and_resize + one colour pass"


@tf.function(jit_compile=True)
def _one_colour_pass(images, factors):
    """Brightness, contrast and saturation fused into one XLA pass.

    The contrast scales around 0.5, not around each image's mean: the
    mean is a second pass over the image, which a lower bound leaves out.
    ``factors``: ``(batch, 3)`` multipliers.
    """
    brightness, contrast, saturation = (
        factors[:, i, None, None, None] for i in range(3)
    )
    images = tf.clip_by_value(images * brightness, 0.0, 1.0)
    images = tf.clip_by_value((images - 0.5) * contrast + 0.5, 0.0, 1.0)
    grey = tf.reduce_sum(images * [0.299, 0.587, 0.114], -1, keepdims=True)
    return tf.clip_by_value(grey + (images - grey) * saturation, 0.0, 1.0)


def bound(size):
    """A lower bound of the ImageNet policy's cost with TensorFlow's kernels.

    The same work done the cheapest way TensorFlow offers, with less of
    it: one ``tf.image.crop_and_resize`` (C++) per batch on the uint8
    images, a random square box per image with the horizontal flip folded
    in (its x1 and x2 swapped), then brightness, contrast and saturation
    as one fused XLA pass without the contrast's mean. What this variant
    costs, no pipeline of these ops built from TensorFlow's kernels can
    undercut by much.
    """

    def augment(seed, data):
        # Images alone, or (images, labels) as `bench_augment_fit` gives.
        images = data[0] if isinstance(data, tuple) else data
        count = tf.shape(images)[0]
        draws = tf.random.stateless_uniform([count, 7], seed)
        side = tf.sqrt(0.08 + 0.92 * draws[:, 0])  # area in [0.08, 1]
        top = draws[:, 1] * (1.0 - side)
        left = draws[:, 2] * (1.0 - side)
        flip = draws[:, 3] < 0.5
        x1 = tf.where(flip, left + side, left)
        x2 = tf.where(flip, left, left + side)
        boxes = tf.stack([top, x1, top + side, x2], axis=1)
        crops = tf.image.crop_and_resize(
            images, boxes, tf.range(count), (size, size)
        )
        out = _one_colour_pass(crops * (1.0 / 255.0), 0.6 + 0.8 * draws[:, 4:])
        return (out, *data[1:]) if isinstance(data, tuple) else out

    def build(ds):
        seeds = tf.data.Dataset.random(0, rerandomize_each_iteration=True)
        pairs = tf.data.Dataset.zip((seeds.batch(2), ds))
        return pairs.map(augment, num_parallel_calls=AUTOTUNE)

    return build


# ---------------------------------------------------------------- Keras


def keras_layers(policy, size):
    if policy == "imagenet":
        # Keras has no random resized crop: a random crop of the output size.
        layers = [
            keras.layers.RandomCrop(size, size, seed=1),
            keras.layers.RandomFlip("horizontal", seed=2),
            keras.layers.RandomColorJitter(
                value_range=(0, 255),
                brightness_factor=0.4,
                contrast_factor=0.4,
                saturation_factor=0.4,
                seed=3,
            ),
        ]
    else:
        area = (size // 2) ** 2 / size**2
        layers = [
            keras.layers.RandomFlip("horizontal", seed=1),
            keras.layers.RandomTranslation(0.125, 0.125, seed=2),
            keras.layers.RandomRotation(15 / 360, seed=3),
            keras.layers.RandomContrast(0.2, seed=4),
            keras.layers.RandomErasing(factor=1.0, scale=(area, area), seed=5),
        ]

    def augment(images):
        images = tf.cast(images, tf.float32)
        for layer in layers:
            images = layer(images, training=True)
        return images * (1.0 / 255.0)

    return lambda ds: ds.map(augment, num_parallel_calls=AUTOTUNE)


# ---------------------------------------------------------------- keras-aug


def keras_aug_layers(policy, size):
    module, reason = _optional("keras_aug")
    if module is None:
        return None, f"keras-aug not importable ({reason})"
    if policy != "imagenet":
        return None, "keras-aug: only the ImageNet policy is set up"
    vision = module.layers.vision
    try:
        layers = [
            vision.RandomResizedCrop(size),
            vision.RandomFlip("horizontal"),
            vision.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4),
        ]
    except Exception as error:  # noqa: BLE001
        return None, f"keras-aug failed to build: {error}"

    def augment(images):
        images = tf.cast(images, tf.float32) * (1.0 / 255.0)
        for layer in layers:
            images = layer(images, training=True)
        return images

    return (lambda ds: ds.map(augment, num_parallel_calls=AUTOTUNE)), None


# ---------------------------------------------------------- albumentations


def albumentations_transform(policy, size):
    module, reason = _optional("albumentations")
    if module is None:
        return None, f"albumentations not importable ({reason})"
    cv2, _ = _optional("cv2")
    if cv2 is not None:
        cv2.setNumThreads(1)
    A = module
    if policy == "imagenet":
        transform = A.Compose(
            [
                A.RandomResizedCrop(size=(size, size)),
                A.HorizontalFlip(),
                A.ColorJitter(
                    brightness=0.4, contrast=0.4, saturation=0.4, hue=0.0, p=1
                ),
            ]
        )
    else:
        half = size // 2
        transform = A.Compose(
            [
                A.HorizontalFlip(),
                A.Affine(
                    translate_percent=(-0.125, 0.125), rotate=(-15, 15), p=1
                ),
                A.RandomBrightnessContrast(
                    brightness_limit=0.0, contrast_limit=0.2, p=1
                ),
                A.CoarseDropout(
                    num_holes_range=(1, 1),
                    hole_height_range=(half, half),
                    hole_width_range=(half, half),
                    p=1,
                ),
            ]
        )

    def batch_fn(images):
        out = np.stack([transform(image=image)["image"] for image in images])
        return out.astype(np.float32) * np.float32(1.0 / 255.0)

    return batch_fn, None


def albumentations_thread(policy, size):
    fn, reason = albumentations_transform(policy, size)
    if fn is None:
        return None, reason

    def run(pool, batches):
        n = len(pool)
        for i in range(batches):
            start = (i * BATCH) % n
            index = np.arange(start, start + BATCH) % n
            fn(pool[index])

    return run, None


def albumentations_tf_data(policy, size):
    fn, reason = albumentations_transform(policy, size)
    if fn is None:
        return None, reason

    def augment(images):
        out = tf.numpy_function(fn, [images], tf.float32)
        out.set_shape([BATCH, size, size, 3])
        return out

    return (lambda ds: ds.map(augment, num_parallel_calls=AUTOTUNE)), None


# ---------------------------------------------------------------- timing

# Batches each round runs untimed on its fresh iterator before the clock
# starts: building an iterator instantiates the map functions (about 0.1 s
# for this kit's XLA pipeline and for Keras's layers, once per epoch in
# training), which would otherwise dominate a round at 32 pixels.
SKIP = 2


def time_variant(variant, pool, batches):
    """Steady-state ``(seconds, CPU seconds, startup seconds)`` of a round.

    A tf.data variant gets a new iterator over the built dataset (fresh
    randomness, no retracing); its first `SKIP` batches are timed apart
    as the startup.
    """
    kind, runner = variant
    if kind == "python":
        start, cpu = time.perf_counter(), _machine.cpu_seconds()
        runner(pool, batches)
        return time.perf_counter() - start, _machine.cpu_seconds() - cpu, 0.0
    start = time.perf_counter()
    iterator = iter(runner.take(batches + SKIP).prefetch(AUTOTUNE))
    for _ in range(SKIP):
        next(iterator)
    startup = time.perf_counter() - start
    start, cpu = time.perf_counter(), _machine.cpu_seconds()
    for _ in iterator:
        pass
    return time.perf_counter() - start, _machine.cpu_seconds() - cpu, startup


def run_group(policy, size, args):
    in_size = input_size(policy, size)
    rng = np.random.default_rng(0)
    pool = rng.integers(0, 256, (POOL, in_size, in_size, 3), dtype=np.uint8)
    variants = {OURS: ("tf", ours(policy, size))}
    builders = {
        "Keras 3 layers in tf.data": lambda p, s: (keras_layers(p, s), None),
        "keras-aug in tf.data": keras_aug_layers,
        "albumentations, one thread": albumentations_thread,
        "albumentations in tf.data (numpy_function)": albumentations_tf_data,
    }
    for name, builder in builders.items():
        fn, reason = builder(policy, size)
        if fn is None:
            print(f"  skipped {name}: {reason}")
            continue
        kind = "python" if name == "albumentations, one thread" else "tf"
        variants[name] = (kind, fn)
    floor_name = "floor: cast" + (
        " + tf.image.resize" if policy == "imagenet" else ""
    )
    if policy == "imagenet":
        variants[BOUND] = ("tf", bound(size))
    variants[floor_name] = ("tf", floor(policy, size))
    # Each tf.data variant is built (traced) once; every round iterates it
    # anew (fresh randomness, no retracing).
    source = tf.data.Dataset.from_tensor_slices(pool).repeat()
    source = source.batch(BATCH, drop_remainder=True)
    for name, (kind, fn) in variants.items():
        if kind == "tf":
            variants[name] = (kind, fn(source))
    for variant in variants.values():  # Warm-up: XLA compiles.
        time_variant(variant, pool, 3)
    results = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, variant in variants.items():
            results[name].append(time_variant(variant, pool, args.batches))
    images = args.batches * BATCH
    title = (
        f"{policy} policy, {size}x{size} from {in_size}x{in_size} uint8, "
        f"batch {BATCH}, {images} images x {args.rounds} rounds "
        f"(steady state; startup = the first {SKIP} batches of an iterator)"
    )
    print(f"\n{title}")
    print(
        f"{'variant':46s} {'images/s':>10s} {'ours / it':>10s} "
        f"{'CPU ms/img':>11s} {'ours / it':>10s} {'startup ms':>11s}"
    )
    wall = {name: [r[0] for r in rounds] for name, rounds in results.items()}
    cpu = {name: [r[1] for r in rounds] for name, rounds in results.items()}
    for name, rounds in results.items():
        rate = images / statistics.median(wall[name])
        ratio = _machine.median_ratio(wall[name], wall[OURS])
        cpu_ms = 1e3 * statistics.median(cpu[name]) / images
        cpu_ratio = _machine.median_ratio(cpu[name], cpu[OURS])
        startup = 1e3 * statistics.median(r[2] for r in rounds)
        print(
            f"{name:46s} {rate:10,.0f} {ratio:9.2f}x "
            f"{cpu_ms:11.3f} {cpu_ratio:9.2f}x {startup:11.0f}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 224, 512])
    parser.add_argument(
        "--policies",
        nargs="+",
        default=["imagenet", "cifar"],
        choices=["imagenet", "cifar"],
    )
    parser.add_argument(
        "--batches", type=int, default=None, help="batches per round"
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(_machine.setup_line())
    for policy in args.policies:
        for size in args.sizes:
            run_args = argparse.Namespace(**vars(args))
            if args.batches is None:  # About the same work per size.
                run_args.batches = max(4, min(100, 16 * 224**2 // size**2))
            run_group(policy, size, run_args)


if __name__ == "__main__":
    main()
