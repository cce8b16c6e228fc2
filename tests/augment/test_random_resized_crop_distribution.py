"""RandomResizedCrop draws windows as torchvision does (issue 21, point 1).

torchvision's ``RandomResizedCrop.get_params``, reimplemented in numpy
below: up to ten draws of an area fraction (uniform in ``scale``) and an
aspect ratio (log-uniform in ``ratio``), the sides rounded; the first that
fits is placed uniformly; when none fits, the centre crop with the aspect
ratio clamped into ``ratio`` (the whole image only when its own ratio is in
range). The kit's windows for 20,000 examples are drawn in one call of the
op's sampler (its matrices, read back as whole pixels as
`decode_random_resized_crop` reads them) and compared with 20,000 draws of
the reference by a two-sample Kolmogorov-Smirnov test on the area fraction
and on the aspect ratio, on a square, a photograph-shaped image and two
10:1 panoramas (where the fallback decides most draws).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from keras_regkit import augment as rka

DRAWS = 20_000
SCALE = (0.08, 1.0)
RATIO = (3.0 / 4.0, 4.0 / 3.0)
SHAPES = [(32, 32), (375, 500), (100, 1000), (1000, 100)]
# Two samples of 20,000 from one distribution: the statistic exceeds 0.02
# with probability about 1e-3 (0.0136 at 5%).
MAX_STATISTIC = 0.02


def torchvision_windows(rng, height, width, count, scale=SCALE, ratio=RATIO):
    """``get_params`` for ``count`` images: int ``(count, 4)`` [y, x, h, w]."""
    area = height * width
    attempts = 10
    target = area * rng.uniform(scale[0], scale[1], (count, attempts))
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    aspect = np.exp(rng.uniform(*log_ratio, (count, attempts)))
    # Python's round, as torchvision's int(round(...)): half to even.
    w = np.round(np.sqrt(target * aspect)).astype(int)
    h = np.round(np.sqrt(target / aspect)).astype(int)
    fits = (0 < w) & (w <= width) & (0 < h) & (h <= height)
    first = fits.argmax(axis=1)
    rows = np.arange(count)
    w, h = w[rows, first], h[rows, first]
    hit = fits.any(axis=1)
    # Placed uniformly, as torch.randint(0, size - side + 1).
    y = rng.integers(0, np.where(hit, height - h, 0) + 1)
    x = rng.integers(0, np.where(hit, width - w, 0) + 1)
    # The fallback: the centre crop, ratio clamped.
    in_ratio = width / height
    if in_ratio < min(ratio):
        fw, fh = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        fw, fh = int(round(height * max(ratio))), height
    else:
        fw, fh = width, height
    w, h = np.where(hit, w, fw), np.where(hit, h, fh)
    y = np.where(hit, y, (height - fh) // 2)
    x = np.where(hit, x, (width - fw) // 2)
    return np.stack([y, x, h, w], axis=1)


def kit_windows(op, height, width, count, seed=0):
    """The op's windows for ``count`` examples, drawn in one call."""
    matrices = op.sample(
        tf.constant([0, seed], tf.int64), count, (height, width, 3)
    )
    m = matrices["matrix"].numpy().astype(np.float64)
    # The centred matrix is [[w / W, 0, cx], [0, h / H, cy]].
    w = np.round(m[:, 0, 0] * width)
    h = np.round(m[:, 1, 1] * height)
    x = np.round(m[:, 0, 2] + (width - w) / 2.0)
    y = np.round(m[:, 1, 2] + (height - h) / 2.0)
    return np.stack([y, x, h, w], axis=1).astype(int)


def area_and_aspect(windows, height, width):
    _, _, h, w = windows.T
    return h * w / (height * width), w / h


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_area_and_aspect_distribution_is_torchvisions(shape):
    height, width = shape
    op = rka.RandomResizedCrop(224, 224, scale=SCALE, ratio=RATIO)
    ours = kit_windows(op, height, width, DRAWS)
    reference = torchvision_windows(
        np.random.default_rng(height * 7 + width), height, width, DRAWS
    )
    y, x, h, w = ours.T
    assert (y >= 0).all() and (x >= 0).all()
    assert (y + h <= height).all() and (x + w <= width).all()
    for name, a, b in zip(
        ("area", "aspect"),
        area_and_aspect(ours, height, width),
        area_and_aspect(reference, height, width),
        strict=True,
    ):
        result = stats.ks_2samp(a, b)
        assert result.statistic < MAX_STATISTIC, (shape, name, result)


@pytest.mark.parametrize("shape", [(100, 1000), (1000, 100)])
def test_panoramas_fall_back_to_the_clamped_centre_crop(shape):
    height, width = shape
    op = rka.RandomResizedCrop(224, 224)
    windows = kit_windows(op, height, width, DRAWS, seed=1)
    y, x, h, w = windows.T
    aspect = w / h
    # The whole 10:1 image is never squashed into the square any more.
    assert aspect.max() < RATIO[1] * 1.05 and aspect.min() > RATIO[0] * 0.95
    # Most draws miss on a 10:1 image; those are the centred, clamped crop.
    if width > height:
        fallback = np.array([0, (width - 133) // 2, 100, 133])
    else:
        fallback = np.array([(height - 133) // 2, 0, 133, 100])
    share = (windows == fallback).all(axis=1).mean()
    reference = torchvision_windows(np.random.default_rng(2), *shape, DRAWS)
    expected = (reference == fallback).all(axis=1).mean()
    assert share > 0.5 and abs(share - expected) < 0.02, (share, expected)


def test_whole_image_fallback_is_kept_as_an_option():
    # The kit's behaviour before issue 21, on request: ten misses take the
    # whole image (about 78% of the draws on a 10:1 panorama).
    op = rka.RandomResizedCrop(224, 224, fallback="whole")
    windows = kit_windows(op, 100, 1000, DRAWS, seed=2)
    whole = (windows == [0, 0, 100, 1000]).all(axis=1).mean()
    assert 0.7 < whole < 0.85, whole
    assert op.get_config()["fallback"] == "whole"
    again = rka.RandomResizedCrop.from_config(op.get_config())
    assert again.fallback == "whole"
    with pytest.raises(ValueError, match="`fallback`"):
        rka.RandomResizedCrop(224, 224, fallback="stretch")
