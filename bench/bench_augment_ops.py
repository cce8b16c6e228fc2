"""Benchmark: each augmentation op against albumentations's, one at a time.

The per-op table albumentations publishes for itself, for the ops both
kits have: 224x224 uint8 RGB images (random, seed 0, a pool of 128 cycled),
batch 64, one op at a time, applied to every image (probability 1 on both
sides, so that a row is the op's cost), float32 in [0, 1] out. Per op:

* ours: ``rka.Pipeline([op], seed=0)(ds)`` over the batched uint8 dataset
  (the default ``jit_compile``: XLA where the op supports it; the
  pipeline ends with a prefetch);
* albumentations: ``A.Compose([op])`` applied image by image inside
  ``tf.data`` via ``tf.numpy_function`` on each batch
  (``num_parallel_calls=AUTOTUNE``, ``cv2.setNumThreads(1)``, the output
  cast to float32 and divided by 255, as in ``bench_augment_sizes.py``),
  then ``prefetch(AUTOTUNE)``.

The parameters of each row make both sides do the same work (they are
in ``ROWS`` and printed under the table); an op one side lacks is skipped
with its reason. Every variant is built once; all run interleaved in
rounds in one process after a warm-up (the XLA compiles happen there);
each round of a variant is a fresh iterator over ``take(batches)`` of
the repeated batched source, whose first batches are timed apart as its
startup (the helpers of ``bench_augment_sizes.py``), the rest is the
steady state. The script prints a Markdown table: images/s on all CPU
cores and CPU milliseconds per image (user + system time of the whole
process: steadier than wall time on a loaded machine), each with the
median of the per-round ratios albumentations ÷ ours in time (above 1:
ours is faster, or cheaper); with the versions, the CPU model, whether
oneDNN is on and the load average.

Run:
    python bench/bench_augment_ops.py                 # 310 s measured
    python bench/bench_augment_ops.py --help          # the ops' names
    python bench/bench_augment_ops.py --ops rotate gaussian-blur \\
        --batches 20 --rounds 5
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import statistics
import time
import warnings
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _machine  # noqa: E402
import bench_augment_sizes as sizes  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_regkit import augment as rka  # noqa: E402

AUTOTUNE = tf.data.AUTOTUNE
BATCH = sizes.BATCH
POOL = sizes.POOL
SIZE = 224
SHEAR = 0.2  # Ours: the shear itself; albumentations takes its angle.
SHEAR_DEGREES = math.degrees(math.atan(SHEAR))


@dataclasses.dataclass(frozen=True)
class Row:
    """One op of both kits, set up to do the same work.

    Attributes:
        name: The row's name (``--ops`` takes it with hyphens).
        ours: Builds this kit's op.
        theirs: Builds albumentations's transform from the module.
        comment: The parameters of both, in words (printed).
    """

    name: str
    ours: Callable[[], object]
    theirs: Callable[[object], object]
    comment: str


ROWS = (
    Row(
        "horizontal flip",
        lambda: rka.RandomFlip("horizontal", probability=1.0),
        lambda A: A.HorizontalFlip(p=1),
        '`RandomFlip("horizontal", probability=1.0)` ↔ `HorizontalFlip`',
    ),
    Row(
        "vertical flip",
        lambda: rka.RandomFlip("vertical", probability=1.0),
        lambda A: A.VerticalFlip(p=1),
        '`RandomFlip("vertical", probability=1.0)` ↔ `VerticalFlip`',
    ),
    Row(
        "rotate",
        lambda: rka.RandomRotation(15 / 360),
        lambda A: A.Rotate(limit=15, p=1),
        "`RandomRotation(15 / 360)` ↔ `Rotate(limit=15)`: ±15°, bilinear, "
        "zero fill",
    ),
    Row(
        "translate",
        lambda: rka.RandomTranslation(0.125, 0.125),
        lambda A: A.Affine(translate_percent=(-0.125, 0.125), p=1),
        "`RandomTranslation(0.125, 0.125)` ↔ `Affine(translate_percent="
        "(-0.125, 0.125))`: ±12.5 % on each axis, bilinear, zero fill",
    ),
    Row(
        "shear",
        lambda: rka.RandomShear(SHEAR, SHEAR),
        lambda A: A.Affine(
            shear={
                "x": (-SHEAR_DEGREES, SHEAR_DEGREES),
                "y": (-SHEAR_DEGREES, SHEAR_DEGREES),
            },
            p=1,
        ),
        f"`RandomShear({SHEAR}, {SHEAR})` ↔ `Affine(shear=±"
        f"{SHEAR_DEGREES:.1f}° on x and y)`: the same shears, bilinear, "
        "zero fill",
    ),
    Row(
        "zoom",
        lambda: rka.RandomZoom(0.2),
        lambda A: A.Affine(scale=(1 / 1.2, 1 / 0.8), keep_ratio=True, p=1),
        "`RandomZoom(0.2)` ↔ `Affine(scale=(1 / 1.2, 1 / 0.8), "
        "keep_ratio=True)`: the same scales, bilinear, zero fill",
    ),
    Row(
        "random resized crop",
        lambda: rka.RandomResizedCrop(SIZE, SIZE),
        lambda A: A.RandomResizedCrop(size=(SIZE, SIZE)),
        f"`RandomResizedCrop({SIZE}, {SIZE})` ↔ `RandomResizedCrop(size="
        f"({SIZE}, {SIZE}))`: scale (0.08, 1), ratio (3/4, 4/3), bilinear",
    ),
    Row(
        "brightness",
        lambda: rka.RandomBrightness(0.2),
        lambda A: A.RandomBrightnessContrast(
            brightness_limit=0.2, contrast_limit=0.0, p=1
        ),
        "`RandomBrightness(0.2)` ↔ `RandomBrightnessContrast("
        "brightness_limit=0.2, contrast_limit=0)`: adds U(±0.2) of the "
        "maximum",
    ),
    Row(
        "contrast",
        lambda: rka.RandomContrast(0.2),
        lambda A: A.ColorJitter(
            brightness=0, contrast=0.2, saturation=0, hue=0, p=1
        ),
        "`RandomContrast(0.2)` ↔ `ColorJitter(contrast=0.2)` (the other "
        "factors off): scales around the mean by 1 ± 0.2",
    ),
    Row(
        "saturation",
        lambda: rka.RandomSaturation(0.4),
        lambda A: A.ColorJitter(
            brightness=0, contrast=0, saturation=0.4, hue=0, p=1
        ),
        "`RandomSaturation(0.4)` ↔ `ColorJitter(saturation=0.4)` (the "
        "other factors off): a blend with the grayscale, 1 ± 0.4",
    ),
    Row(
        "hue",
        lambda: rka.RandomHue(0.1),
        lambda A: A.ColorJitter(
            brightness=0, contrast=0, saturation=0, hue=0.1, p=1
        ),
        "`RandomHue(0.1)` ↔ `ColorJitter(hue=0.1)` (the other factors "
        "off): the hue turned by ±0.1 turn, through HSV",
    ),
    Row(
        "gamma",
        lambda: rka.RandomGamma(0.2),
        lambda A: A.RandomGamma(gamma_limit=(80, 120), p=1),
        "`RandomGamma(0.2)` ↔ `RandomGamma(gamma_limit=(80, 120))`: the "
        "power 1 ± 0.2",
    ),
    Row(
        "gaussian blur",
        lambda: rka.RandomGaussianBlur(5, (0.1, 2.0)),
        lambda A: A.GaussianBlur(
            blur_limit=(5, 5), sigma_limit=(0.1, 2.0), p=1
        ),
        "`RandomGaussianBlur(5, (0.1, 2.0))` ↔ `GaussianBlur(blur_limit="
        "(5, 5), sigma_limit=(0.1, 2.0))`: a 5x5 kernel, σ in [0.1, 2]",
    ),
    Row(
        "posterize",
        lambda: rka.RandomPosterize(4),
        lambda A: A.Posterize(num_bits=4, p=1),
        "`RandomPosterize(4)` ↔ `Posterize(num_bits=4)`",
    ),
    Row(
        "solarize",
        lambda: rka.RandomSolarize(0.5),
        lambda A: A.Solarize(threshold_range=(0.5, 0.5), p=1),
        "`RandomSolarize(0.5)` ↔ `Solarize(threshold_range=(0.5, 0.5))`",
    ),
    Row(
        "equalize",
        lambda: rka.RandomEqualize(),
        lambda A: A.Equalize(mode="pil", by_channels=True, p=1),
        '`RandomEqualize()` ↔ `Equalize(mode="pil")`: per channel, as PIL '
        "(ours gives PIL's result, albumentations's within 2 levels)",
    ),
    Row(
        "autocontrast",
        lambda: rka.RandomAutoContrast(),
        lambda A: A.AutoContrast(cutoff=0, method="pil", p=1),
        '`RandomAutoContrast()` ↔ `AutoContrast(method="pil")`: each '
        "channel stretched from its min and max to the full range",
    ),
    Row(
        "sharpness",
        lambda: rka.RandomSharpness(0.5),
        lambda A: A.Sharpen(alpha=(0.2, 0.5), lightness=(0.5, 1.0), p=1),
        "`RandomSharpness(0.5)` ↔ `Sharpen()` (its defaults): a 3x3 "
        "filter blended with the image on both sides",
    ),
    Row(
        "cutout",
        lambda: rka.RandomCutout(SIZE // 2),
        lambda A: A.CoarseDropout(
            num_holes_range=(1, 1),
            hole_height_range=(SIZE // 2, SIZE // 2),
            hole_width_range=(SIZE // 2, SIZE // 2),
            p=1,
        ),
        f"`RandomCutout({SIZE // 2})` ↔ `CoarseDropout` with one "
        f"{SIZE // 2}x{SIZE // 2} hole, zero fill (ours centred anywhere, "
        "clipped at the edges)",
    ),
    Row(
        "erasing",
        lambda: rka.RandomErasing(probability=1.0),
        lambda A: A.Erasing(p=1),
        "`RandomErasing(probability=1.0)` ↔ `Erasing()`: one box, area "
        "(0.02, 0.33) of the image, aspect ratio (0.3, 3.3), zero fill",
    ),
    Row(
        "grid mask",
        lambda: rka.GridMask((16, 48), 0.5),
        lambda A: A.GridDropout(
            ratio=0.5, unit_size_range=(16, 48), random_offset=True, p=1
        ),
        "`GridMask((16, 48), 0.5)` ↔ `GridDropout(ratio=0.5, "
        "unit_size_range=(16, 48), random_offset=True)`: zero fill",
    ),
    Row(
        "grayscale",
        lambda: rka.RandomGrayscale(1.0),
        lambda A: A.ToGray(num_output_channels=3, p=1),
        "`RandomGrayscale(1.0)` ↔ `ToGray(num_output_channels=3)`: "
        "weighted average (ITU-R 601), 3 channels out",
    ),
    Row(
        "gaussian noise",
        lambda: rka.RandomGaussianNoise(0.05),
        lambda A: A.GaussNoise(std_range=(0.05, 0.05), p=1),
        "`RandomGaussianNoise(0.05)` ↔ `GaussNoise(std_range=(0.05, "
        "0.05))`: σ 5 % of the range, per pixel and channel",
    ),
    Row(
        "time masking",
        lambda: rka.TimeMasking(40),
        lambda A: A.TimeMasking(time_mask_param=40, p=1),
        "`TimeMasking(40)` ↔ `TimeMasking(time_mask_param=40)`: one band "
        "up to 40 pixels wide, zero fill (ours across rows, theirs "
        "across columns)",
    ),
    Row(
        "frequency masking",
        lambda: rka.FrequencyMasking(30),
        lambda A: A.FrequencyMasking(freq_mask_param=30, p=1),
        "`FrequencyMasking(30)` ↔ `FrequencyMasking(freq_mask_param=30)`: "
        "one band up to 30 pixels wide, zero fill (ours across columns, "
        "theirs across rows)",
    ),
)

# Ops of one kit that the other lacks (or does not do alike).
SKIPPED = {
    "invert": "this kit has no invert op (`RandomSolarize(0.0)` inverts "
    "every pixel: the solarize row's work)",
    "pad-crop": "albumentations has no pad-and-crop op (`Pad` then "
    "`RandomCrop` would be two)",
    "mixup-cutmix": "albumentations has no MixUp or CutMix (they mix "
    "the images of a batch)",
    "mosaic": "albumentations's `Mosaic` takes the other images as "
    "metadata of each call, not from the batch: not the same work",
    "policies": "albumentations has no RandAugment, TrivialAugment or AugMix",
    "series-tables": "`RandomJitter`, `RandomScaling`, "
    "`RandomMagnitudeWarp`, `FeatureDropout`, `FeatureNoise` are not "
    "image ops",
}


# ---------------------------------------------------------------- variants


def ours(row, source):
    """This kit's pipeline of the row's op, and whether it runs on XLA."""
    pipeline = rka.Pipeline([row.ours()], seed=0)
    return pipeline(source), pipeline.use_xla


def albumentations(row, source, module):
    """albumentations's transform of the row, mapped over the batches."""
    with warnings.catch_warnings():
        # TimeMasking and FrequencyMasking suggest XYMasking instead.
        warnings.simplefilter("ignore", UserWarning)
        transform = module.Compose([row.theirs(module)], seed=0)

    def batch_fn(images):
        out = np.stack([transform(image=image)["image"] for image in images])
        return out.astype(np.float32) * np.float32(1.0 / 255.0)

    def augment(images):
        out = tf.numpy_function(batch_fn, [images], tf.float32)
        out.set_shape([BATCH, SIZE, SIZE, 3])
        return out

    return source.map(augment, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)


# ---------------------------------------------------------------- running


def print_header(module, cv2):
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    opencv = f", OpenCV {cv2.__version__}" if cv2 is not None else ""
    print(f"{_machine.versions()}; albumentations {module.__version__}{opencv}")
    print(f"CPU: {_machine.cpu_model()}; oneDNN: {_machine.onednn_state()}")
    print(f"CPU allocator: {_machine.cpu_allocator()}")
    print(f"Load average before the run (1, 5, 15 min): {load}")


def run(rows, args, module):
    rng = np.random.default_rng(0)
    pool = rng.integers(0, 256, (POOL, SIZE, SIZE, 3), dtype=np.uint8)
    source = tf.data.Dataset.from_tensor_slices(pool).repeat()
    source = source.batch(BATCH, drop_remainder=True)
    # Each variant is built (traced) once; every round iterates it anew
    # (fresh randomness, no retracing).
    variants, xla = {}, {}
    for row in rows:
        dataset, xla[row.name] = ours(row, source)
        variants[row.name, "ours"] = ("tf", dataset)
        variants[row.name, "theirs"] = (
            "tf",
            albumentations(row, source, module),
        )
    print(f"Warming up {len(variants)} variants (XLA compiles)...", flush=True)
    for variant in variants.values():
        sizes.time_variant(variant, pool, 3)
    results = {key: [] for key in variants}
    for round_ in range(args.rounds):
        print(f"Round {round_ + 1} of {args.rounds}...", flush=True)
        for key, variant in variants.items():
            results[key].append(sizes.time_variant(variant, pool, args.batches))
    return results, xla


def print_table(rows, results, xla, args):
    images = args.batches * BATCH
    print(
        f"\n{SIZE}x{SIZE} uint8 RGB, batch {BATCH}, one op at a time, "
        f"{images} images x {args.rounds} rounds (steady state; startup = "
        f"the first {sizes.SKIP} batches of an iterator, untimed). "
        "Ratios: albumentations's time ÷ ours, the median of the rounds "
        "(above 1: ours is faster; in CPU time: cheaper).\n"
    )
    print(
        "| op | ours img/s | albumentations img/s | ours ÷ it "
        "| ours CPU ms/img | ours ÷ it (CPU) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        mine, theirs = results[row.name, "ours"], results[row.name, "theirs"]
        wall = [r[0] for r in mine], [r[0] for r in theirs]
        cpu = [r[1] for r in mine], [r[1] for r in theirs]
        name = row.name if xla[row.name] else f"{row.name} (no XLA)"
        print(
            f"| {name} "
            f"| {images / statistics.median(wall[0]):,.0f} "
            f"| {images / statistics.median(wall[1]):,.0f} "
            f"| {_machine.median_ratio(wall[1], wall[0]):.2f} "
            f"| {1e3 * statistics.median(cpu[0]) / images:.3f} "
            f"| {_machine.median_ratio(cpu[1], cpu[0]):.2f} |"
        )
    print("\nParameters (ours ↔ albumentations; probability 1 on both):\n")
    for row in rows:
        print(f"- {row.name}: {row.comment}")


def key(row):
    """The row's ``--ops`` name: its name with hyphens for spaces."""
    return row.name.replace(" ", "-")


def main():
    keys = [key(row) for row in ROWS]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ops",
        nargs="+",
        choices=keys + list(SKIPPED),
        default=None,
        metavar="OP",
        help=f"a subset, by name: {', '.join(keys)} (or a skipped one, "
        f"for why: {', '.join(SKIPPED)})",
    )
    parser.add_argument(
        "--batches",
        type=int,
        default=16,
        help="timed batches per round (default 16: the whole run took "
        "310 s on 2 idle AMD EPYC cores)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    module, reason = sizes._optional("albumentations")
    if module is None:
        print(f"albumentations not importable ({reason}): nothing to compare")
        return
    cv2, _ = sizes._optional("cv2")
    if cv2 is not None:
        cv2.setNumThreads(1)
    print_header(module, cv2)
    wanted = set(keys + list(SKIPPED) if args.ops is None else args.ops)
    for name, why in SKIPPED.items():
        if name in wanted:
            print(f"skipped {name}: {why}")
    rows = [row for row in ROWS if key(row) in wanted]
    if rows:
        start = time.perf_counter()
        results, xla = run(rows, args, module)
        print_table(rows, results, xla, args)
        print(f"\nWhole run: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
