"""Benchmark: an ImageNet-style input pipeline from JPEG bytes of any size.

JPEGs of 300 to 500 pixels a side (cut from scikit-learn's two sample
photographs, resized, encoded at quality 90 at the start: no download)
go through the ImageNet training transform: random resized crop to
224x224, horizontal flip, brightness / contrast / saturation 0.4, in
batches of 64, float32 in [0, 1] out. Variants:

* ours, decode the window only: ``augment_unbatched(pipeline, bytes,
  batch_size=64)`` (``tf.image.decode_and_crop_jpeg`` of the sampled
  window, resized per example; flip and colour batched, XLA);
* ours without antialiasing: the same with ``RandomResizedCrop(...,
  antialias=False)`` (what the default's low-pass filter costs);
* ours, full decode first: ``tf.io.decode_jpeg`` then the same;
* ours, examples out: ``augment_unbatched(pipeline, bytes)`` (no
  ``batch_size``: single examples, batched again after);
* albumentations 2 inside ``tf.data`` via ``tf.numpy_function``
  (``cv2.imdecode`` then ``RandomResizedCrop``, ``HorizontalFlip``,
  ``ColorJitter``), ``num_parallel_calls=AUTOTUNE``, if installed;
* crop only (ours, decode the window + resize);
* a lower bound with antialiasing on: TensorFlow's own window
  (``stateless_sample_distorted_bounding_box``), decoded and resized
  with its antialiased kernel, nothing else (`bound_antialiased`);
* the floor of a full decode (``tf.io.decode_jpeg`` +
  ``tf.image.resize``, not antialiased).

Variants run interleaved in rounds after a warm-up; the script prints
median images/s, the median of the per-round ratios ours ÷ each variant,
the CPU cores each variant kept busy (process CPU time ÷ wall time), and
images per CPU-second with its ratio (the cost, steadier than wall time
on a shared machine), with the CPU model, whether oneDNN is on and the
load average.

Run:
    python bench/bench_augment_inputs.py                   # about a minute
    python bench/bench_augment_inputs.py --batches 4 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _machine  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_regkit import augment as rka  # noqa: E402

AUTOTUNE = tf.data.AUTOTUNE
BATCH = 64
SIZE = 224
POOL = 64  # Distinct JPEGs, cycled.
OURS = "ours: decode the window only"


def jpeg_pool(count, low=300, high=500, seed=0):
    """JPEG bytes of random sizes cut from scikit-learn's sample photos."""
    from sklearn.datasets import load_sample_images

    photos = load_sample_images().images
    rng = np.random.default_rng(seed)
    pool = []
    for i in range(count):
        photo = photos[i % len(photos)]
        height, width = rng.integers(low, high + 1, 2)
        # A window of the output's aspect ratio, at least 60% of the photo.
        side = rng.uniform(0.6, 1.0) * min(photo.shape[:2])
        aspect = width / height
        crop_h = int(min(side, photo.shape[1] / aspect))
        crop_w = int(crop_h * aspect)
        y = rng.integers(0, photo.shape[0] - crop_h + 1)
        x = rng.integers(0, photo.shape[1] - crop_w + 1)
        window = photo[y : y + crop_h, x : x + crop_w]
        image = tf.image.resize(window, (int(height), int(width)))
        image = tf.cast(tf.round(image), tf.uint8)
        pool.append(tf.io.encode_jpeg(image, quality=90).numpy())
    return pool


def pipeline(colour=True, antialias=True):
    ops = [rka.RandomResizedCrop(SIZE, SIZE, antialias=antialias)]
    if colour:
        ops += [
            rka.RandomFlip("horizontal"),
            rka.RandomBrightness(0.4),
            rka.RandomContrast(0.4),
            rka.RandomSaturation(0.4),
        ]
    return rka.Pipeline(ops, seed=0)


def ours_window(source):
    return rka.augment_unbatched(pipeline(), source, batch_size=BATCH)


def ours_aliased(source):
    return rka.augment_unbatched(
        pipeline(antialias=False), source, batch_size=BATCH
    )


def ours_full_decode(source):
    decoded = source.map(
        lambda b: tf.io.decode_jpeg(b, channels=3), num_parallel_calls=AUTOTUNE
    )
    return rka.augment_unbatched(pipeline(), decoded, batch_size=BATCH)


def ours_examples(source):
    return rka.augment_unbatched(pipeline(), source).batch(BATCH)


def crop_only(source):
    return rka.augment_unbatched(pipeline(False), source, batch_size=BATCH)


def floor_full_decode(source):
    def decode(contents):
        image = tf.io.decode_jpeg(contents, channels=3)
        return tf.image.resize(image, (SIZE, SIZE)) * (1.0 / 255.0)

    return source.map(decode, num_parallel_calls=AUTOTUNE).batch(BATCH)


def bound_antialiased(source):
    """TensorFlow's own antialiased crop and nothing else: a lower bound.

    ``tf.image.stateless_sample_distorted_bounding_box`` (Inception's
    window), ``tf.image.decode_and_crop_jpeg`` of that window and
    TensorFlow's only antialiased resize (``ScaleAndTranslate``, run on
    the uint8 crop); no flip, no colour, no check of the bytes.
    """

    def crop(seed, contents):
        shape = tf.image.extract_jpeg_shape(contents)
        begin, extent, _ = tf.image.stateless_sample_distorted_bounding_box(
            shape,
            tf.zeros([1, 0, 4]),
            seed=seed,
            min_object_covered=0.0,
            aspect_ratio_range=(3.0 / 4.0, 4.0 / 3.0),
            area_range=(0.08, 1.0),
            max_attempts=10,
            use_image_if_no_bounding_boxes=True,
        )
        window = tf.stack([begin[0], begin[1], extent[0], extent[1]])
        image = tf.image.decode_and_crop_jpeg(contents, window, channels=3)
        scale = SIZE / tf.cast(tf.shape(image)[:2], tf.float32)
        resized = tf.raw_ops.ScaleAndTranslate(
            images=image[None],
            size=[SIZE, SIZE],
            scale=scale,
            translation=tf.zeros([2]),
            kernel_type="triangle",
            antialias=True,
        )[0]
        return resized * (1.0 / 255.0)

    seeds = tf.data.Dataset.random(0, rerandomize_each_iteration=True)
    pairs = tf.data.Dataset.zip((seeds.batch(2), source))
    return pairs.map(crop, num_parallel_calls=AUTOTUNE).batch(BATCH)


def albumentations_variant(source):
    try:
        import albumentations as A
        import cv2
    except Exception as error:  # noqa: BLE001 - any import failure skips.
        return None, f"{type(error).__name__}: {error}"
    cv2.setNumThreads(1)
    transform = A.Compose(
        [
            A.RandomResizedCrop(size=(SIZE, SIZE)),
            A.HorizontalFlip(),
            A.ColorJitter(
                brightness=0.4, contrast=0.4, saturation=0.4, hue=0.0, p=1
            ),
        ]
    )

    def augment(contents):
        buffer = np.frombuffer(contents, np.uint8)
        image = cv2.cvtColor(
            cv2.imdecode(buffer, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB
        )
        return transform(image=image)["image"]

    def element(contents):
        image = tf.numpy_function(augment, [contents], tf.uint8)
        image.set_shape([SIZE, SIZE, 3])
        return image

    out = source.map(element, num_parallel_calls=AUTOTUNE).batch(BATCH)
    out = out.map(lambda x: tf.cast(x, tf.float32) * (1.0 / 255.0))
    return out, None


def time_variant(dataset, batches):
    """Wall seconds and process CPU seconds of one pass (a new iterator)."""
    wall, cpu = time.perf_counter(), _machine.cpu_seconds()
    for _ in dataset.take(batches).prefetch(AUTOTUNE):
        pass
    return time.perf_counter() - wall, _machine.cpu_seconds() - cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(_machine.setup_line())
    pool = jpeg_pool(POOL)
    sizes = [tf.image.extract_jpeg_shape(b).numpy()[:2] for b in pool]
    kib = statistics.mean(len(b) for b in pool) / 1024
    print(
        f"{POOL} JPEGs, {min(s.min() for s in sizes)} to "
        f"{max(s.max() for s in sizes)} pixels a side, {kib:.0f} KiB mean"
    )
    source = tf.data.Dataset.from_tensor_slices(pool).repeat()
    variants = {
        OURS: ours_window(source),
        "ours: antialias=False (plain bilinear taps)": ours_aliased(source),
        "ours: full decode, then crop": ours_full_decode(source),
        "ours: examples out (no batch_size), .batch()": ours_examples(source),
    }
    album, reason = albumentations_variant(source)
    if album is None:
        print(f"  skipped albumentations: {reason}")
    else:
        variants["albumentations in tf.data (numpy_function)"] = album
    variants["crop only: decode the window + resize"] = crop_only(source)
    variants["bound: TF's window decode + antialiased resize"] = (
        bound_antialiased(source)
    )
    variants["floor: full decode + resize"] = floor_full_decode(source)
    for dataset in variants.values():  # Warm-up: tracing, XLA.
        time_variant(dataset, 2)
    walls = {name: [] for name in variants}
    cpus = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, dataset in variants.items():
            wall, cpu = time_variant(dataset, args.batches)
            walls[name].append(wall)
            cpus[name].append(cpu)
    images = args.batches * BATCH
    print(
        f"\nImageNet transform from JPEG, {SIZE}x{SIZE}, batch {BATCH}, "
        f"{images} images x {args.rounds} rounds; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"{'variant':46s} {'images/s':>9s} {'ours / it':>9s} {'cores':>5s} "
        f"{'per CPU-s':>9s} {'ours / it':>9s}"
    )
    for name in variants:
        rate = images / statistics.median(walls[name])
        ratio = _machine.median_ratio(walls[name], walls[OURS])
        cores = statistics.median(
            c / w for c, w in zip(cpus[name], walls[name], strict=True)
        )
        per_cpu = images / statistics.median(cpus[name])
        cpu_ratio = _machine.median_ratio(cpus[name], cpus[OURS])
        print(
            f"{name:46s} {rate:9,.0f} {ratio:8.2f}x {cores:5.1f} "
            f"{per_cpu:9,.0f} {cpu_ratio:8.2f}x"
        )


if __name__ == "__main__":
    main()
